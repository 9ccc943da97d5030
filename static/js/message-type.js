// Compose: offer only the kinds of message the chosen account supports, and show the fields of
// the chosen kind. Without JavaScript every kind and field stays visible; the server refuses a
// kind the account cannot send, with a message.
(function () {
  var box = document.getElementById("message-type");
  var account = document.getElementById("id_account");
  if (!box) return;
  var byAccount = JSON.parse(box.getAttribute("data-types-by-account") || "{}");

  function chosen() {
    var radio = box.querySelector("input[name=message_type]:checked");
    return radio ? radio.value : "text";
  }

  function update() {
    var offered = account && byAccount[account.value];
    box.querySelectorAll(".message-kind").forEach(function (item) {
      var ok = !offered || offered.indexOf(item.getAttribute("data-kind")) !== -1;
      item.hidden = !ok;
      if (!ok && item.querySelector("input").checked) {
        box.querySelector("#kind-text").checked = true;
      }
    });
    var kind = chosen();
    box.querySelectorAll("[data-kind-only]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind-only") !== kind;
    });
  }

  box.addEventListener("change", update);
  if (account) account.addEventListener("change", update);
  update();
})();
