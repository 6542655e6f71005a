// Instant search for the page at /. Without this script the page works the same, one form submission at a time.
//
// As the box is typed in (debounced), the page is asked for the same URL the form would submit, with the header
// X-Requested-With: tracuu-instant, and answers with only the results (what goes inside <main>), rendered and
// escaped by the server; they replace the results on screen and the address bar follows (history.replaceState),
// so any state can be shared as a link. One request at a time: while one is out, the latest wanted URL waits,
// and an answer for a URL no longer wanted is dropped.
//
// Keys in the box: Enter opens the first result when the results shown are for what is typed (else the form is
// submitted as usual), Escape clears the box, Arrow Down moves to the first result.
(function () {
  "use strict";
  var HEADER = "X-Requested-With";
  var VALUE = "tracuu-instant";
  var DELAY_MS = 250;

  var form = document.getElementById("search");
  var box = document.getElementById("q");
  var results = document.getElementById("results");
  if (!form || !box || !results || !window.fetch || !window.URLSearchParams || !history.replaceState) {
    return;
  }

  // The URL the form would submit now, without empty fields; "/" (the home page) when the box is empty.
  function formUrl() {
    var params = new URLSearchParams();
    var fields = form.elements;
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.name && typeof field.value === "string" && field.value.trim() !== "") {
        params.append(field.name, field.value);
      }
    }
    return params.get("q") && params.get("q").trim() ? "/?" + params.toString() : "/";
  }

  var shownFor = formUrl(); // the URL whose results are on screen
  var wanted = shownFor; // the URL whose results should be
  var inFlight = false;
  var timer = null;

  function busy(on) {
    if (on) {
      results.setAttribute("aria-busy", "true");
    } else {
      results.removeAttribute("aria-busy");
    }
  }

  function show(url, html) {
    results.innerHTML = html; // the server's own escaped HTML (a fragment with no script: CSP allows none inline)
    shownFor = url;
    history.replaceState(null, "", url);
    var q = box.value.trim();
    document.title = (q ? q + " – " : "") + "Tra cứu";
  }

  function request(url) {
    wanted = url;
    results.setAttribute("data-wanted", url); // for tests and the curious: what the next answer must be for
    if (inFlight) {
      return; // asked for when the answer in flight arrives
    }
    if (url === shownFor) {
      busy(false);
      return;
    }
    inFlight = true;
    busy(true);
    var headers = {};
    headers[HEADER] = VALUE;
    fetch(url, { headers: headers, credentials: "same-origin" })
      .then(function (response) {
        // 400: a bad parameter, shown in Vietnamese in the fragment
        return response.text().then(function (text) {
          return response.ok || response.status === 400 ? text : null;
        });
      })
      .catch(function () {
        return null; // the server is unreachable: the results stay as they are
      })
      .then(function (html) {
        inFlight = false;
        if (url === wanted && html !== null) {
          show(url, html);
        }
        if (wanted !== url) {
          request(wanted); // the answer was stale: ask for what is wanted now
        } else {
          busy(false);
        }
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      request(formUrl());
    }, DELAY_MS);
  }

  function firstResult() {
    return results.querySelector(".hit .title a");
  }

  box.addEventListener("input", schedule);
  form.addEventListener("change", function (event) {
    if (event.target !== box) {
      schedule(); // a date changed
    }
  });
  box.addEventListener("keydown", function (event) {
    if (event.isComposing) {
      return; // an input method (Telex, VNI) is still composing the word
    }
    if (event.key === "Enter") {
      var first = firstResult();
      if (first && formUrl() === shownFor) {
        event.preventDefault();
        window.location.assign(first.href);
      }
    } else if (event.key === "Escape") {
      if (box.value !== "") {
        event.preventDefault();
        box.value = "";
        clearTimeout(timer);
        request(formUrl());
      }
    } else if (event.key === "ArrowDown") {
      var link = firstResult();
      if (link) {
        event.preventDefault();
        link.focus();
      }
    }
  });
})();
