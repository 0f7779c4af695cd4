// A link in a credential email ends "#credential=XXXX-...": the fragment never reaches the
// server (nor its logs). This fills the credential field from it, then removes it from the
// address bar and the history entry, so the credential is not left on screen in the URL.
"use strict";
(function () {
  var match = /^#credential=([0-9A-Za-z-]{1,40})$/.exec(window.location.hash);
  var field = document.getElementById("credential");
  if (!match || !field) { return; }
  if (!field.value) { field.value = match[1]; }
  history.replaceState(null, "", window.location.pathname + window.location.search);
})();
