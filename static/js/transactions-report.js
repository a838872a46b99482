// Report form: quick-amount chips, thousands dots while typing, one submit per form.
(function () {
  "use strict";
  var form = document.querySelector("[data-tx-report]");
  if (!form) { return; }
  var input = form.querySelector("[data-amount-input]");

  function dotted(digits) {
    return digits.replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  input.addEventListener("input", function () {
    var digits = input.value.replace(/\D/g, "");
    input.value = digits ? dotted(digits) : "";
  });

  Array.prototype.forEach.call(form.querySelectorAll("[data-amount]"), function (chip) {
    chip.addEventListener("click", function () {
      input.value = dotted(chip.getAttribute("data-amount"));
      input.focus();
    });
  });

  // The server stores a form once whatever happens (its token is the idempotency key);
  // this only spares a second round trip when a finger taps twice.
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }
    sent = true;
    window.setTimeout(function () { sent = false; }, 8000);
  });
}());
