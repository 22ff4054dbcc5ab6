// Progressive autocomplete of commune fields: fills the input's <datalist> with
// suggestions from the server. Without JavaScript the field is a plain text input.
(function () {
  "use strict";
  document.querySelectorAll("input[data-cpf-communes]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || !window.fetch) { return; }
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var query = input.value.trim();
      if (query.length < 2 || query === last) { return; }
      timer = window.setTimeout(function () {
        last = query;
        fetch(input.dataset.cpfCommunes + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            list.replaceChildren.apply(list, data.results.map(function (commune) {
              var option = document.createElement("option");
              option.value = commune.label;
              return option;
            }));
          })
          .catch(function () { /* suggestions are optional */ });
      }, 150);
    });
  });
})();
