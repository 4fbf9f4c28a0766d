// Saves text as a file through a temporary blob: link (no server round trip, nothing inline for the CSP to allow).
export function downloadText(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by now; the URL is freed a little later so slow browsers still read it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
