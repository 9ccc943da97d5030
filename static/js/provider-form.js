// The account form lists every provider's options; show only the chosen provider's. Without
// JavaScript all of them stay visible, each under its provider's name, and only the chosen
// provider's are saved.
(function () {
  var kind = document.querySelector("[data-provider-kind]");
  if (!kind) return;
  var defaults = JSON.parse(kind.getAttribute("data-provider-kind") || "{}");
  var address = document.getElementById("id_base_url");
  function show() {
    if (address) address.placeholder = defaults[kind.value] || "";
    document.querySelectorAll("[data-provider-options]").forEach(function (group) {
      group.hidden = group.getAttribute("data-provider-options") !== kind.value;
    });
  }
  kind.addEventListener("change", show);
  show();
})();
