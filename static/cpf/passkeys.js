/* Passkeys (WebAuthn): register one in « Mon compte → Sécurité », confirm a purchase with
   one. The server gives the options as JSON and checks the answer; this file only hands
   them to the browser. Without WebAuthn the buttons stay hidden and the page says so. */
(function () {
  "use strict";
  var supported = window.PublicKeyCredential && typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";

  function post(url, token, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "La demande a échoué.");
        return data;
      });
    });
  }

  function setup(box) {
    var button = box.querySelector("[data-passkey-button]");
    var error = box.querySelector("[data-passkey-error]");
    var unsupported = box.querySelector("[data-passkey-unsupported]");
    var token = box.querySelector("input[name=csrfmiddlewaretoken]").value;
    var nameInput = box.querySelector("input[name=name]");
    if (!supported) return;
    if (unsupported) unsupported.hidden = true;
    button.hidden = false;
    button.addEventListener("click", function () {
      error.hidden = true;
      button.disabled = true;
      var register = box.dataset.passkey === "register";
      post(box.dataset.optionsUrl, token)
        .then(function (data) {
          return register
            ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(data.publicKey) })
            : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(data.publicKey) });
        })
        .then(function (credential) {
          return post(box.dataset.verifyUrl, token, { credential: credential.toJSON(), name: nameInput ? nameInput.value : "" });
        })
        .then(function (data) {
          window.location.assign(data.redirect);
        })
        .catch(function (failure) {
          error.textContent = failure && failure.name === "NotAllowedError"
            ? "L'opération a été annulée ou a expiré : réessayez."
            : (failure && failure.message) || "La demande a échoué : réessayez.";
          error.hidden = false;
          error.setAttribute("role", "alert");
          button.disabled = false;
        });
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(setup);
})();
