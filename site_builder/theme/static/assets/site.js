/* Progressive enhancement only: without this file every page reads the same, with absolute
   times and the system's colour scheme.  With it: "3 h ago" for recent times, and a light/dark
   toggle whose choice is remembered (the inline script in <head> applies it before first paint). */
(function () {
  "use strict";
  var root = document.documentElement;

  // Relative times for the last week; older ones keep their date.  The absolute time stays in the title.
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  var format = null;
  try { format = new Intl.RelativeTimeFormat(root.lang || "en", { numeric: "auto", style: "narrow" }); } catch (e) { /* old browser */ }
  var now = Date.now();
  Array.prototype.forEach.call(document.querySelectorAll("time[data-rel]"), function (el) {
    var seconds = (Date.parse(el.getAttribute("datetime")) - now) / 1000;
    if (!format || isNaN(seconds) || seconds > 60 || seconds < -604800) return;
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1] || units[i][0] === "minute") {
        el.title = el.textContent;
        el.textContent = format.format(Math.round(seconds / units[i][1]), units[i][0]);
        return;
      }
    }
  });

  // The theme toggle exists only when JavaScript runs, so it never shows as a dead button.
  var slot = document.querySelector("[data-theme-toggle]");
  if (!slot) return;
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : { matches: false };
  var sun = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><circle cx="12" cy="12" r="4.5"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/></svg>';
  var moon = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5z"/></svg>';
  var button = document.createElement("button");
  button.type = "button";
  button.className = "theme-toggle";

  function current() { return root.dataset.theme || (dark.matches ? "dark" : "light"); }
  function show() {
    var next = current() === "dark" ? "light" : "dark";
    button.innerHTML = next === "dark" ? moon : sun;
    button.setAttribute("aria-label", "Switch to " + next + " theme");
    button.title = "Switch to " + next + " theme";
  }
  button.addEventListener("click", function () {
    var next = current() === "dark" ? "light" : "dark";
    root.dataset.theme = next;
    try { localStorage.setItem("theme", next); } catch (e) { /* private mode: the choice lasts for this page */ }
    show();
  });
  if (dark.addEventListener) dark.addEventListener("change", show);
  show();
  slot.appendChild(button);
})();
