// The account form lists every provider's options; show only the chosen provider's. Without
// JavaScript all of them stay visible, each under its provider's name, and only the chosen
// provider's are saved.
(function () {
  var kind = document.querySelector("[data-provider-kind]");
  if (!kind) return;
  function show() {
    document.querySelectorAll("[data-provider-options]").forEach(function (group) {
      group.hidden = group.getAttribute("data-provider-options") !== kind.value;
    });
  }
  kind.addEventListener("change", show);
  show();
})();
