// The funding application form: totals and the requested share of costs as you
// type, and a character counter for the description. Money is counted in whole
// øre/öre/cents with BigInt, never in floating point, and parsed the way the
// server parses it (funding.money), which computes the same totals again on save.
(function () {
  "use strict";
  var form = document.getElementById("funding-form");
  if (!form || typeof BigInt !== "function") return;
  var lang = document.documentElement.lang || "en";
  var currency = form.dataset.currency;
  var ZERO = BigInt(0), HUNDRED = BigInt(100), TEN_THOUSAND = BigInt(10000), TWO = BigInt(2), ONE = BigInt(1);

  // '12 500,50' and '12500.5' both work; null when the text is not an amount.
  function minorUnits(text) {
    var t = String(text || "").replace(/[\s\u00a0\u202f]/g, "");
    if (t === "") return ZERO;
    if ((t.match(/,/g) || []).length === 1 && t.indexOf(".") === -1) t = t.replace(",", ".");
    var m = /^\+?(\d+)(?:\.(\d*))?$/.exec(t);
    if (!m) return null;
    var fraction = m[2] || "";
    var units = BigInt(m[1]) * HUNDRED + BigInt((fraction + "00").slice(0, 2));
    if (fraction.length > 2 && fraction.charAt(2) >= "5") units += ONE; // half up, as Decimal.quantize
    return units;
  }

  function decimalText(units) {
    var negative = units < ZERO;
    var a = negative ? -units : units;
    var cents = String(a % HUNDRED);
    return (negative ? "-" : "") + String(a / HUNDRED) + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  // Crowns by their ISO code, the euro by its sign, as the server writes every amount (core/i18n.format_money).
  var moneyFormat = new Intl.NumberFormat(lang, { style: "currency", currency: currency,
                                                  currencyDisplay: currency === "EUR" ? "symbol" : "code" });
  var percentFormat = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // Intl formats a decimal string exactly; no float is involved.
  function money(units) { return moneyFormat.format(decimalText(units)); }

  function value(id) { var el = document.getElementById(id); return el ? el.value : ""; }
  function show(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }

  var notANumber = form.dataset.notANumber;
  var maxShare = minorUnits(form.dataset.maxShare);   // hundredths of a percent
  var maxAmount = minorUnits(form.dataset.maxAmount);

  function recompute() {
    var total = ZERO, bad = false;
    var amounts = form.querySelectorAll("input.budget-amount");
    for (var i = 0; i < amounts.length; i++) {
      var units = minorUnits(amounts[i].value);
      if (units === null) { bad = true; } else { total += units; }
    }
    var own = minorUnits(value("own_financing"));
    var asked = minorUnits(value("amount_requested"));
    show("live-total-costs", bad ? notANumber : money(total));
    if (own === null || asked === null) {
      show("live-financing", notANumber);
      show("live-gap", notANumber);
      show("live-share", "—");
      show("live-share-note", "");
      return;
    }
    show("live-financing", money(own + asked) + (maxAmount !== null && asked > maxAmount ? " — " + form.dataset.overAmount : ""));
    show("live-gap", bad ? notANumber : money(total - own - asked));
    if (bad || total === ZERO) {
      show("live-share", "—");
      show("live-share-note", "");
      return;
    }
    // Hundredths of a percent, rounded half up: (asked × 100 / total) to two places.
    var share = (asked * TEN_THOUSAND * TWO + total) / (TWO * total);
    show("live-share", percentFormat.format(decimalText(share)) + " %");
    show("live-share-note", maxShare !== null && share > maxShare ? "— " + form.dataset.overShare : "");
  }

  var description = document.getElementById("description");
  var counter = document.getElementById("description-count");
  function count() {
    if (!description || !counter) return;
    var max = Number(description.getAttribute("maxlength"));
    // Line breaks count once, as on the server.
    var n = description.value.replace(/\r\n/g, "\n").length;
    counter.textContent = counter.dataset.template
      .replace("{n}", new Intl.NumberFormat(lang).format(n))
      .replace("{max}", new Intl.NumberFormat(lang).format(max));
  }

  form.addEventListener("input", function () { recompute(); count(); });
  form.addEventListener("change", recompute);
  document.getElementById("live-totals").hidden = false;
  recompute();
  count();
})();
