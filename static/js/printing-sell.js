// Sell page: group the typed amount in thousands (50.000) and show it big in đồng.
// The page works without this script: the form posts plain digits or the quick buttons.
(function () {
  "use strict";
  var input = document.getElementById("f-amount");
  var preview = document.getElementById("amount-preview");
  if (!input) { return; }

  function digits(text) { return (text || "").replace(/[^0-9]/g, "").replace(/^0+/, ""); }
  function group(d) { return d.replace(/\B(?=(\d{3})+(?!\d))/g, "."); }

  function refresh() {
    var d = digits(input.value);
    var shown = d ? group(d) : "";
    if (input.value !== shown) {
      input.value = shown;
      input.setSelectionRange(shown.length, shown.length);
    }
    if (preview) { preview.textContent = d ? shown + " ₫" : ""; }
  }

  input.addEventListener("input", refresh);
  refresh();

  var buttons = document.querySelectorAll(".quick-amounts button[name=quick]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      input.value = button.value;
      refresh();
    });
  });
  if (!input.value) { input.focus(); }
})();
