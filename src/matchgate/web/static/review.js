// Keyboard shortcuts on the review page: a approve, d deny, c claim, n next.
(function () {
  function click(id) { var el = document.getElementById(id); if (el) { el.click(); } }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var reason = document.getElementById("reason");
    if (event.key === "a" || event.key === "d") {
      if (reason && !reason.value) { reason.focus(); event.preventDefault(); return; }
      click(event.key === "a" ? "approve" : "deny");
    } else if (event.key === "c") {
      click("claim");
    } else if (event.key === "n") {
      click("next");
    }
  });
})();
