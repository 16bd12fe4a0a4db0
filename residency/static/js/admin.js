/* Progressive enhancement for the administration forms: show the startup
   profile only while "Startup" is chosen. Without JavaScript the server shows
   it after a submit that needs it. */
document.addEventListener("DOMContentLoaded", function () {
  var kind = document.getElementById("kind");
  var profile = document.getElementById("startup-profile");
  if (!kind || !profile) { return; }
  function sync() { profile.hidden = kind.value !== "startup"; }
  kind.addEventListener("change", sync);
  sync();
});
