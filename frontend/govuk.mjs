// Only the GOV.UK Frontend JS components the portal uses.
// Does NOT auto-run: main.mjs calls initGovuk() on load and after htmx swaps.
import {
  Button,
  Checkboxes,
  ErrorSummary,
  NotificationBanner,
  Radios,
  ServiceNavigation,
  SkipLink,
  createAll
} from 'govuk-frontend'

const COMPONENTS = [
  Button,
  Checkboxes,
  ErrorSummary,
  NotificationBanner,
  Radios,
  ServiceNavigation,
  SkipLink
]

// Elements already initialised throw InitError; re-running is expected after
// htmx swaps, so ignore those and log anything else.
function onError(error) {
  if (error && error.name !== 'InitError') console.log(error)
}

/**
 * Create every portal component found within `scope` (including `scope`
 * itself if it carries a data-module). If `scope` is no longer in the page
 * (e.g. replaced by an htmx outerHTML swap) the whole document is scanned.
 * Safe to call repeatedly on the same tree.
 *
 * @param {Element | Document} [scope=document]
 */
export function initGovuk(scope = document) {
  if (!scope || !scope.isConnected) scope = document
  for (const Component of COMPONENTS) {
    if (scope.matches && scope.matches(`[data-module="${Component.moduleName}"]`)) {
      try {
        new Component(scope)
      } catch (error) {
        onError(error)
      }
    }
    createAll(Component, undefined, { scope, onError })
  }
}
