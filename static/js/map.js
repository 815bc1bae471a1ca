// Facility map: markers and popups from the json_script data, tiles optional.
// Where tiles cannot load (no network, blocked host, MAP_TILE_URL empty) the markers still
// render over the plain background colour of the map container.
(function () {
  "use strict";
  var container = document.getElementById("facility-map");
  var data = document.getElementById("map-points");
  if (!container || !data || typeof L === "undefined") { return; }
  var points = JSON.parse(data.textContent);
  if (!points.length) { container.hidden = true; return; }
  L.Icon.Default.imagePath = container.dataset.iconPath || L.Icon.Default.imagePath;
  var map = L.map(container, { scrollWheelZoom: false });
  var tileUrl = container.dataset.tileUrl;
  if (tileUrl) {
    L.tileLayer(tileUrl, {
      maxZoom: 18,
      attribution: "&copy; OpenStreetMap contributors"
    }).addTo(map);
  } else {
    container.classList.add("no-tiles");
  }
  var bounds = [];
  points.forEach(function (point) {
    // Popups are built from text nodes, never HTML strings, so curated names cannot inject.
    var popup = document.createElement("div");
    var link = document.createElement("a");
    link.href = "/facilities/" + encodeURIComponent(point.slug) + "/";
    link.textContent = point.name + (point.name_zh ? " " + point.name_zh : "");
    popup.appendChild(link);
    var details = document.createElement("p");
    details.textContent = point.company + " · " + point.status + " · " + point.region;
    popup.appendChild(details);
    if (point.approximate) {
      var note = document.createElement("p");
      note.className = "muted";
      note.textContent = container.dataset.labelApproximate;
      popup.appendChild(note);
    }
    var marker = L.circleMarker([point.lat, point.lng], {
      radius: 8, weight: 2, color: "#0b5cad", fillColor: "#3b8fe0", fillOpacity: 0.8
    }).addTo(map);
    marker.bindPopup(popup);
    marker.bindTooltip(point.name);
    bounds.push([point.lat, point.lng]);
  });
  if (bounds.length === 1) {
    map.setView(bounds[0], 13);
  } else {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
  }
  container.dataset.markers = String(bounds.length);
})();
