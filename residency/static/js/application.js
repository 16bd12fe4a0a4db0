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

// A live word count under each long answer with a word limit, and conditional questions shown
// only when the answer they depend on is given (without JavaScript every question shows, with its note).
(function () {
  var form = document.getElementById("application-form");
  if (!form) return;
  var words = /[\p{L}\p{N}_]+(?:[-'’][\p{L}\p{N}_]+)*/gu;
  form.querySelectorAll("[data-word-count-for]").forEach(function (note) {
    var field = document.getElementById(note.dataset.wordCountFor);
    var limit = parseInt(note.dataset.wordLimit, 10);
    var template = note.textContent;
    function update() {
      var n = (field.value.match(words) || []).length;
      note.textContent = template + " (" + n + "/" + limit + ")";
      note.classList.toggle("word-count-over", n > limit);
    }
    field.addEventListener("input", update);
    update();
  });
  var conditional = form.querySelectorAll("[data-shown-if]");
  function answerOf(key) {
    var inputs = form.querySelectorAll("[name='" + key + "']");
    var values = [];
    inputs.forEach(function (input) {
      if ((input.type === "checkbox" || input.type === "radio") ? input.checked : true) values.push(input.value);
    });
    return values;
  }
  function refresh() {
    conditional.forEach(function (block) {
      block.hidden = answerOf(block.dataset.shownIf).indexOf(block.dataset.shownIfValue) === -1;
    });
  }
  form.addEventListener("change", refresh);
  refresh();
})();
