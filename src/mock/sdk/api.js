/*
 * klarna-conformance: a stand-in for Klarna's browser SDK (the script at
 * https://x.klarnacdn.net/kp/lib/v1/api.js), served by the mock at the same
 * path. It is not Klarna's code. It offers what a merchant's page calls
 * (docs/klarna.md §11.6, §14): Klarna.Payments (and the legacy name
 * Klarna.Credit) with init, load, authorize, reauthorize and finalize, and
 * talks to the mock that served it with the session's client token.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = window.location.origin;
  try {
    if (script && script.src) {
      base = new URL(script.src, window.location.href).origin;
    }
  } catch (e) {
    /* the page's own origin */
  }

  var state = {
    clientToken: null,
    // load() has answered (whether or not it showed the form).
    loaded: false,
    form: null,
    // The customer's next step: {resolve, kind} while the form waits for a click.
    waiting: null,
    // An authorize() answered finalize_required: {category, data}.
    toFinalize: null,
  };

  function isPart(part) {
    return /^[A-Za-z0-9_-]*$/.test(part);
  }

  // Three dot-separated base64url parts, the first two non-empty, the payload JSON.
  function isJwt(token) {
    if (typeof token !== "string") return false;
    var parts = token.split(".");
    if (parts.length !== 3 || !parts.every(isPart) || !parts[0] || !parts[1]) {
      return false;
    }
    try {
      var text = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      while (text.length % 4) text += "=";
      var payload = JSON.parse(atob(text));
      return payload !== null && typeof payload === "object";
    } catch (e) {
      return false;
    }
  }

  // (options, [data], callback): the callback is the last function given.
  function args(list) {
    var options = list[0] && typeof list[0] === "object" ? list[0] : {};
    var data = {};
    var callback = function () {};
    for (var i = 1; i < list.length; i++) {
      if (typeof list[i] === "function") {
        callback = list[i];
        break;
      }
      if (list[i] && typeof list[i] === "object") data = list[i];
    }
    return { options: options, data: data, callback: callback };
  }

  function later(callback, result) {
    setTimeout(function () {
      callback(result);
    }, 0);
  }

  // POST /__mock/sdk/<what> with the client token; resolves {status, body}.
  function call(what, body) {
    return fetch(base + "/__mock/sdk/" + what, {
      method: "POST",
      mode: "cors",
      headers: {
        Authorization: "Bearer " + state.clientToken,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(body),
    }).then(
      function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try {
            parsed = JSON.parse(text);
          } catch (e) {
            parsed = null;
          }
          return { status: response.status, body: parsed };
        });
      },
      function (error) {
        return {
          status: 0,
          body: { error_code: "NETWORK", error_messages: [String(error)] },
        };
      },
    );
  }

  // The mock refused the call itself (unknown, expired or completed session,
  // a bad token): the form is not shown, and the mock's error rides along.
  function refusedBy(answer) {
    var error = answer.body && typeof answer.body === "object" ? answer.body : {};
    var copy = { status: answer.status };
    Object.keys(error).forEach(function (k) {
      copy[k] = error[k];
    });
    if (window.console) console.error("Klarna stand-in: the mock answered", answer.status, error);
    return { approved: false, show_form: false, error: copy };
  }

  function button(label, testid) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("data-testid", testid);
    b.disabled = true;
    return b;
  }

  function setWaiting(form, on) {
    form.setAttribute("data-state", on ? "awaiting" : "loaded");
    form.querySelectorAll("button").forEach(function (b) {
      b.disabled = !on;
    });
  }

  function render(container, category) {
    var form = document.createElement("div");
    form.className = "klarna-mock-form";
    form.setAttribute("data-klarna-mock", "form");
    form.setAttribute("data-category", category || "");
    var title = document.createElement("p");
    title.textContent = "Klarna (stand-in of klarna-conformance): " + (category || "default category");
    var buy = button("Buy", "klarna-mock-buy");
    var close = button("Close", "klarna-mock-close");
    buy.addEventListener("click", function () {
      answerCustomer("buy");
    });
    close.addEventListener("click", function () {
      answerCustomer("close");
    });
    form.appendChild(title);
    form.appendChild(buy);
    form.appendChild(close);
    while (container.firstChild) container.removeChild(container.firstChild);
    container.appendChild(form);
    setWaiting(form, false);
    return form;
  }

  function answerCustomer(choice) {
    var waiting = state.waiting;
    if (!waiting) return;
    state.waiting = null;
    if (state.form) setWaiting(state.form, false);
    waiting.resolve(choice);
  }

  // Shows the form to the customer and waits for Buy or Close.
  function customer() {
    if (state.waiting) answerCustomer("close");
    return new Promise(function (resolve) {
      state.waiting = { resolve: resolve };
      setWaiting(state.form, true);
    });
  }

  function merged(a, b) {
    var out = {};
    [a, b].forEach(function (o) {
      Object.keys(o || {}).forEach(function (k) {
        out[k] = o[k];
      });
    });
    return out;
  }

  function authorizeCall(what, category, data, autoFinalize) {
    var body = { data: data, auto_finalize: autoFinalize };
    if (category) body.payment_method_category = category;
    return call(what, body).then(function (answer) {
      if (answer.status !== 200 || !answer.body) return refusedBy(answer);
      var result = answer.body;
      state.toFinalize = result.finalize_required ? { category: category, data: data } : null;
      return result;
    });
  }

  // authorize and finalize: the customer confirms first. Where load()
  // showed no form (the mock refused the session, or the category is not
  // offered) there is nothing to confirm: the mock's answer comes at once.
  function withCustomer(callback, then) {
    if (!state.clientToken || !state.loaded) {
      if (window.console) console.error("Klarna stand-in: call init() and load() first");
      later(callback, { approved: false, show_form: false });
      return;
    }
    if (!state.form) {
      then().then(callback);
      return;
    }
    customer().then(function (choice) {
      if (choice !== "buy") {
        // The customer closed the form: fixable, no token. [I]
        callback({ approved: false, show_form: true });
        return;
      }
      then().then(callback);
    });
  }

  var api = {
    version: "klarna-conformance-stand-in",
    init: function (options) {
      var token = options && options.client_token;
      if (!isJwt(token)) {
        throw new TypeError("Klarna.Payments.init: client_token must be a JWT (three dot-separated parts)");
      }
      state.clientToken = token;
      state.form = null;
      state.loaded = false;
      state.toFinalize = null;
    },
    load: function () {
      var a = args(arguments);
      if (!state.clientToken) {
        throw new Error("Klarna.Payments.load: call init() first");
      }
      var container = a.options.container;
      if (typeof container === "string") container = document.querySelector(container);
      if (!container || !container.appendChild) {
        later(a.callback, { show_form: false, error: { invalid_fields: ["container"] } });
        return;
      }
      var category = a.options.payment_method_category || null;
      var body = category ? { payment_method_category: category } : {};
      call("load", body).then(function (answer) {
        state.loaded = true;
        if (answer.status !== 200 || !answer.body) {
          var refused = refusedBy(answer);
          a.callback({ show_form: false, error: refused.error });
          return;
        }
        if (answer.body.show_form) state.form = render(container, category);
        var result = { show_form: !!answer.body.show_form };
        if (answer.body.error) result.error = answer.body.error;
        a.callback(result);
      });
    },
    authorize: function () {
      var a = args(arguments);
      var category = a.options.payment_method_category || null;
      var autoFinalize = a.options.auto_finalize !== false;
      withCustomer(a.callback, function () {
        return authorizeCall("authorize", category, a.data, autoFinalize);
      });
    },
    // A new authorization of data changed since: no click needed. [I]
    reauthorize: function () {
      var a = args(arguments);
      if (!state.clientToken) {
        later(a.callback, { approved: false, show_form: false });
        return;
      }
      var category = a.options.payment_method_category || null;
      authorizeCall("authorize", category, a.data, true).then(a.callback);
    },
    // After finalize_required: the customer confirms, then the token. The
    // data is authorize()'s with finalize()'s on top. Without a pending
    // authorization it authorizes as authorize() does. [I]
    finalize: function () {
      var a = args(arguments);
      var pending = state.toFinalize || { category: null, data: {} };
      var category = a.options.payment_method_category || pending.category;
      var data = merged(pending.data, a.data);
      withCustomer(a.callback, function () {
        return authorizeCall("finalize", category, data, true);
      });
    },
  };

  window.Klarna = window.Klarna || {};
  window.Klarna.Payments = api;
  // The legacy script (credit.klarnacdn.net/lib/v1/api.js) named it Klarna.Credit.
  window.Klarna.Credit = api;
  if (typeof window.klarnaAsyncCallback === "function") {
    setTimeout(window.klarnaAsyncCallback, 0);
  }
})();
