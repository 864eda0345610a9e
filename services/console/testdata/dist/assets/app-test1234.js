// A stand-in for Vite's bundle, used by console_assets_test.
document.getElementById("app").textContent = "strata console test bundle loaded";
