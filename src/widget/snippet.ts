/** The one line a shop pastes into its storefront pages. The key is public: it only names the shop. */
export function widgetSnippet(publicBaseUrl: string, widgetKey: string): string {
  return `<script src="${publicBaseUrl}/widget.js" data-seatmate-key="${widgetKey}" async></script>`;
}
