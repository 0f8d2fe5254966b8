// The REST reference folds each operation; a link to one (#op-...) opens it.
"use strict";

function openTarget() {
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = id ? document.getElementById(id) : null;
  if (target instanceof HTMLDetailsElement && !target.open) {
    target.open = true;
    target.scrollIntoView();
  }
}

window.addEventListener("hashchange", openTarget);
document.addEventListener("DOMContentLoaded", openTarget);
