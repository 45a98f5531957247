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

// A client switch swaps the whole page body (#content). Move focus to the new heading, as a page load
// would, so keyboard and screen reader users start at the new client and hear its name.
document.addEventListener('htmx:afterSettle', (event) => {
  if (event.detail.target && event.detail.target.id === 'content') {
    const heading = document.querySelector('#content h1')
    if (heading) {
      heading.setAttribute('tabindex', '-1')
      heading.focus()
    }
  }
})
