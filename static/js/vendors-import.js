// Bulk import page: send the file with XMLHttpRequest so the page can show upload
// progress and a "processing" indicator, then show the server-rendered report in place.
// Without this script the form posts normally and the report comes back as a full page.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var fileInput = document.getElementById("f-file");
  var previewButton = document.getElementById("preview-button");
  var importButton = document.getElementById("import-button");
  var box = document.getElementById("import-progress");
  var bar = document.getElementById("import-bar");
  var statusLine = document.getElementById("import-status");
  var result = document.getElementById("import-result");
  var timer = null;

  function msg(name) { return form.getAttribute("data-msg-" + name) || ""; }

  function say(text) { statusLine.textContent = text; }

  function busy(on) {
    previewButton.disabled = on;
    importButton.disabled = on;
    fileInput.disabled = on;
    if (!on && timer) { clearInterval(timer); timer = null; }
  }

  function showReport(html) {
    result.innerHTML = html;
    var report = document.getElementById("import-report");
    var created = report ? parseInt(report.getAttribute("data-created"), 10) : 0;
    var dryRun = report && report.getAttribute("data-dry-run") === "1";
    importButton.classList.toggle("hidden", !(dryRun && created > 0));
    if (dryRun && created > 0) {
      importButton.textContent = msg("import-n").replace("%n", created);
    }
    result.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  fileInput.addEventListener("change", function () {
    importButton.classList.add("hidden");
    result.innerHTML = "";
    box.classList.add("hidden");
  });

  form.addEventListener("submit", function (event) {
    if (!fileInput.files || !fileInput.files.length) { return; }  // let the browser say so
    event.preventDefault();
    var dryRun = event.submitter && event.submitter.value === "0" ? "0" : "1";
    var data = new FormData(form);
    data.set("dry_run", dryRun);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    var token = form.querySelector("input[name=csrf_token]");
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }

    box.classList.remove("hidden");
    bar.value = 0;
    bar.max = 100;
    say(msg("uploading") + " 0%");
    busy(true);

    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var pct = Math.round(100 * e.loaded / e.total);
      bar.value = pct;
      say(msg("uploading") + " " + pct + "%");
    });
    xhr.upload.addEventListener("load", function () {
      var started = Date.now();
      bar.removeAttribute("value");  // indeterminate while the server works
      var verb = msg(dryRun === "1" ? "checking" : "writing");
      say(verb);
      timer = setInterval(function () {
        say(verb + " " + Math.round((Date.now() - started) / 1000) + " " + msg("seconds"));
      }, 1000);
    });
    xhr.addEventListener("load", function () {
      busy(false);
      bar.value = 100;
      if (xhr.status === 200) {
        say(msg(dryRun === "1" ? "checked" : "done"));
      } else if (xhr.status === 422) {
        say(msg("bad-file"));
      } else if (xhr.status === 413) {
        say(msg("too-large"));
        return;
      } else {
        say(msg("failed") + " " + xhr.status);
        return;
      }
      showReport(xhr.responseText);
    });
    xhr.addEventListener("error", function () {
      busy(false);
      say(msg("offline"));
    });
    xhr.send(data);
  });
}());
