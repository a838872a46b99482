// "Select all" on the approval queue: ticks every enabled box (never the person's own
// entries, which the server renders disabled).
(function () {
  "use strict";
  var all = document.querySelector("[data-select-all]");
  if (!all) { return; }
  var name = all.getAttribute("data-select-all");
  function boxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]:not([disabled])'));
  }
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  document.addEventListener("change", function (event) {
    if (event.target.name !== name) { return; }
    var list = boxes();
    all.checked = list.length > 0 && list.every(function (box) { return box.checked; });
  });
}());
