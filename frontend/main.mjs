// Portal JS entry point, bundled by scripts/build-static.sh to static/portal.min.js.
import { initGovuk } from './govuk.mjs'

function start() {
  document.body.classList.add('js-enabled', 'govuk-frontend-supported')
  initGovuk(document)
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start)
} else {
  start()
}

// Re-initialise components inside content swapped in by htmx.
document.addEventListener('htmx:afterSwap', (event) => {
  initGovuk(event.detail.elt)
})

function focusOn(element) {
  if (!element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1')
  element.focus()
}

// After an htmx swap, focus goes where a keyboard user expects.
// - A client switch swaps the whole page body (#content): focus the new heading, as a page load would, so
//   keyboard and screen reader users start at the new client and hear its name.
// - Any other swap that took away the element that had focus (a link to the next page of results, say)
//   would drop focus to the page body, and the next Tab would go to the footer: focus the new content
//   instead, its table (named by its caption, "Clients, page 2 of 16") or else the swapped region, so the
//   next Tab continues from the top of the new results. The result count is announced by its role="status".
// - A swap that left focus where it was (typing in the search box) does not move it.
document.addEventListener('htmx:afterSettle', (event) => {
  const target = event.detail.target
  if (!target) return
  if (target.id === 'content') {
    const heading = document.querySelector('#content h1')
    if (heading) focusOn(heading)
    return
  }
  const active = document.activeElement
  if (active && active !== document.body && active.isConnected) return
  const swapped = (target.id && document.getElementById(target.id)) || target
  if (!swapped.isConnected) return
  focusOn(swapped.querySelector('table') || swapped)
})
