// widget.js: the "Call us" button other sites embed (docs/webcall.md):
//
//   <script src="https://SAMBUNG/widget.js" data-line="demo" data-label="Call us" async></script>
//
// It adds one fixed button at the bottom right of the page, inside its own shadow root, and a
// click opens Sambung's click-to-call page (/call/) in a small window. A classic script, not a
// module, so any page can include it; it defines nothing global but window.SambungWidget.
(function () {
  'use strict';

  if (window.SambungWidget) return; // Included twice: one button is enough.

  var popupName = 'sambung-call';
  var popupFeatures = 'width=380,height=640';

  // The <script> element that loaded us: its src names the Sambung server, its data- the line.
  var script = document.currentScript || findScript();
  if (!script || !script.src) {
    if (window.console) console.warn('Sambung widget: cannot find its own <script> element; no button added.');
    return;
  }
  var origin = new URL(script.src, document.baseURI).origin;
  var line = (script.getAttribute('data-line') || '').trim();
  var label = (script.getAttribute('data-label') || '').trim() || 'Call us';
  var url = origin + '/call/' + (line ? '?line=' + encodeURIComponent(line) : '');
  var popup = null;

  function findScript() {
    var all = document.querySelectorAll('script[src]');
    for (var i = all.length - 1; i >= 0; i--) {
      var src = all[i].getAttribute('src').split(/[?#]/)[0];
      if (/(^|\/)widget\.js$/.test(src)) return all[i];
    }
    return null;
  }

  // open shows the call page: the window already open (a call may be in progress there, so it
  // is not reloaded), else a new small window, else a new tab when popups are blocked.
  function open() {
    if (popup && !popup.closed) {
      popup.focus();
      return true;
    }
    var w = null;
    try {
      // An empty URL finds a window of that name without navigating it: after this page reloads,
      // a window with a call in it keeps its call.
      w = window.open('', popupName, popupFeatures);
    } catch (e) {
      w = null;
    }
    if (w) {
      var blank = false;
      try {
        blank = w.location.href === 'about:blank';
      } catch (e) {
        blank = false; // Another origin's document: the call page is already there.
      }
      if (blank) w.location.href = url;
      popup = w;
      try {
        w.focus();
      } catch (e) {
        // Focus is a wish, not a promise.
      }
      return true;
    }
    // The popup was blocked: a new tab.
    try {
      w = window.open(url, '_blank');
    } catch (e) {
      w = null;
    }
    if (w) return true;
    var a = document.createElement('a');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener';
    a.style.display = 'none';
    (document.body || document.documentElement).appendChild(a);
    a.click();
    a.remove();
    return false;
  }

  // Looks: set through the CSSOM (never blocked by the embedding page's CSP), plus a small
  // stylesheet inside the shadow root for hover and focus, where the page allows it.
  function setStyles(el, styles) {
    for (var name in styles) el.style.setProperty(name, styles[name], 'important');
  }

  var sheet = ':host{all:initial}' +
    'button:hover{background:#093f44!important}' +
    'button:focus-visible{outline:3px solid #1d4ed8!important;outline-offset:3px!important}' +
    '@media (prefers-reduced-motion:no-preference){button{transition:background .15s}}';

  function build() {
    var host = document.createElement('div');
    host.setAttribute('data-sambung-widget', '');
    setStyles(host, {
      position: 'fixed', right: '20px', bottom: '20px', 'z-index': '2147483000',
      margin: '0', padding: '0', border: '0', width: 'auto', height: 'auto',
    });
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    if (root !== host) {
      try {
        var css = new CSSStyleSheet();
        css.replaceSync(sheet);
        root.adoptedStyleSheets = [css];
      } catch (e) {
        var style = document.createElement('style');
        style.textContent = sheet;
        root.appendChild(style);
      }
    }

    var button = document.createElement('button');
    button.type = 'button';
    button.title = 'Opens a window to call us from this browser';
    setStyles(button, {
      display: 'inline-flex', 'align-items': 'center', gap: '8px', margin: '0',
      padding: '12px 20px 12px 16px', 'min-height': '48px', border: '0', 'border-radius': '999px',
      background: '#0d5c63', color: '#ffffff', cursor: 'pointer',
      font: '600 16px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif',
      'letter-spacing': 'normal', 'text-transform': 'none',
      'box-shadow': '0 4px 14px rgba(16, 24, 40, 0.25)',
    });
    button.appendChild(icon());
    var text = document.createElement('span');
    text.textContent = label; // The button's accessible name.
    button.appendChild(text);
    button.addEventListener('click', function (e) {
      e.preventDefault();
      open();
    });
    root.appendChild(button);
    document.body.appendChild(host);
  }

  // icon is a handset, drawn inline (no request to the embedding page's origin).
  function icon() {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '20');
    svg.setAttribute('height', '20');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1z');
    svg.appendChild(path);
    return svg;
  }

  window.SambungWidget = Object.freeze({ open: open });

  if (document.body) build();
  else document.addEventListener('DOMContentLoaded', build);
})();
