// The receipt's print button (a file, not an onclick attribute, so the Content-Security-Policy allows it).
document.getElementById("print-receipt").addEventListener("click", function () { window.print(); });
