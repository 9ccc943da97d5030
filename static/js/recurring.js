// The recurring send form: show only the fields the chosen frequency uses (weekdays for weekly,
// the day for monthly, minutes for "every few minutes"). Without JavaScript all are shown and
// the server ignores the ones that do not apply.
(function () {
  var select = document.getElementById("id_frequency");
  if (!select) return;
  function update() {
    document.querySelectorAll("[data-frequency]").forEach(function (block) {
      block.hidden = block.getAttribute("data-frequency") !== select.value;
    });
  }
  select.addEventListener("change", update);
  update();
})();
