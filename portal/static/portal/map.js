// Coverage maps (portal/map.html): a region's name and figures below the map when pointed at,
// focused or tapped; on a touch screen the first tap shows them and a second one drills down.
(function () {
  "use strict";
  function setUp(map) {
    var info = map.querySelector(".map-info");
    var chosen = null;
    var touch = false;
    function show(link) {
      if (chosen) chosen.classList.remove("chosen");
      chosen = link;
      link.classList.add("chosen");
      info.textContent = link.getAttribute("data-label");
    }
    map.querySelectorAll("svg a").forEach(function (link) {
      link.addEventListener("pointerenter", function () { show(link); });
      link.addEventListener("focus", function () { show(link); });
      link.addEventListener("pointerdown", function (event) { touch = event.pointerType === "touch"; });
      link.addEventListener("click", function (event) {
        if (touch && chosen !== link) {
          event.preventDefault();
          show(link);
        }
      });
    });
  }
  document.querySelectorAll(".map").forEach(setUp);
})();
