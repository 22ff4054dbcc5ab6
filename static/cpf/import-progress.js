// « Import de catalogue »: while the import is queued or running, ask the server for its
// progress every second and show it (the page itself holds the last state: a reload resumes).
(function () {
  "use strict";
  var section = document.getElementById("progression");
  if (!section) return;
  var bar = document.getElementById("import-progress");
  var text = document.getElementById("import-progress-text");
  var url = section.getAttribute("data-status-url");
  var status = section.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;

  function plural(n, word) { return n + " " + word + (n >= 2 ? "s" : ""); }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        bar.value = state.percent;
        bar.textContent = state.percent + " %";
        if (state.status === "done" || state.status === "failed") {
          window.location.reload();  // the final report
          return;
        }
        var left = state.seconds_left === null ? "" : ", environ " + state.seconds_left + " s restantes";
        text.textContent = state.label + " : " + plural(state.done, "session") + " traitée" + (state.done >= 2 ? "s" : "") +
          " sur " + state.total + " (" + state.percent + " %)" + left + ".";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
