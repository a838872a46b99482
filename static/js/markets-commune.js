// Suggest communes while typing in the market form (the server also accepts a typed code
// or a unique name, so the form works without this script).
(function () {
  "use strict";
  var input = document.querySelector("[data-commune-search]");
  var list = document.getElementById("commune-options");
  var scheme = document.getElementById("f-scheme");
  if (!input || !list || !scheme) { return; }
  var timer = null;
  var last = "";

  function fill(units) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    units.forEach(function (unit) {
      var option = document.createElement("option");
      option.value = unit.code + " " + unit.name;
      list.appendChild(option);
    });
  }

  function search() {
    var text = input.value.trim();
    if (text.length < 2 || /^\d/.test(text) || text === last) { return; }
    last = text;
    var url = "/api/v1/admin-units?level=commune&limit=20&scheme=" +
      encodeURIComponent(scheme.value) + "&q=" + encodeURIComponent(text);
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : []; })
      .then(fill)
      .catch(function () { fill([]); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  scheme.addEventListener("change", function () { last = ""; fill([]); });
}());
