// On a phone a wide table shows one record per block (residency.css, "Tables"): each cell is labelled by the
// header of its column. Cells that already carry a data-label keep it; without JavaScript the table scrolls
// inside its box instead.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table")) {
    const headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) continue;
    const labels = [];
    for (const th of headRow.cells) {
      for (let i = 0; i < th.colSpan; i++) labels.push(th.textContent.trim().replace(/\s+/g, " ").replace(/ [▲▼]$/, ""));
    }
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          if (!cell.hasAttribute("data-label") && labels[column] && cell.colSpan === 1) cell.setAttribute("data-label", labels[column]);
          column += cell.colSpan;
        }
      }
    }
    table.classList.add("stackable");
  }
});
