// Live total of « Saisir mon solde DIF »: the same rules as the server (one employer or
// simultaneous employers: hours add up; successive employers: the latest attestation
// counts; a decimal is rounded up), 15 € an hour. The server computes it again.
(function () {
  "use strict";
  var total = document.querySelector("[data-cpf-dif-total]");
  if (!total) { return; }
  var form = total.closest("form");
  var euros = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR", minimumFractionDigits: 2 });

  function attestations() {
    return Array.prototype.map.call(form.querySelectorAll("[data-cpf-dif-hours]"), function (input) {
      var date = input.closest("fieldset").querySelector("[data-cpf-dif-date]");
      return { hours: parseFloat(input.value.replace(",", ".")), date: date ? date.value : "" };
    }).filter(function (a) { return a.hours > 0; });
  }

  function update() {
    var list = attestations();
    var checked = form.querySelector("input[name='situation']:checked");
    var situation = checked ? checked.value : "un";
    if (!list.length) { return; }
    var hours;
    if (situation === "successifs") {
      list.sort(function (a, b) { return a.date < b.date ? -1 : 1; });
      hours = list[list.length - 1].hours;
    } else {
      hours = list.reduce(function (sum, a) { return sum + a.hours; }, 0);
    }
    hours = Math.ceil(hours - 1e-9);
    if (hours > 120) {
      total.textContent = hours + " h : le DIF ne dépasse pas 120 heures.";
    } else {
      total.textContent = hours + " h → " + euros.format(hours * 15);
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
