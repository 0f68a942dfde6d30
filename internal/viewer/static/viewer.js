// Progressive enhancement only: every page reads without this script.
// Buttons with data-copy copy the text of the element with that id.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.dataset.copy);
      navigator.clipboard.writeText(el.textContent).then(function () {
        b.textContent = "Copied";
      });
    });
  });
});
