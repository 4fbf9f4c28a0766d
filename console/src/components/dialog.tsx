// A modal <dialog>: the browser traps focus and closes on Escape; focus goes back to what opened it.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let nextId = 0;

export interface DialogProps {
  title: string;
  /** Called on Escape or a close button; not while `busy` (a request in flight must finish in view). */
  onClose: () => void;
  busy?: boolean;
  children: ComponentChildren;
}

export function Dialog({ title, onClose, busy = false, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dialog-title-${(nextId += 1)}`).current;
  const busyRef = useRef(busy);
  busyRef.current = busy;
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const giveFocusBack = () => {
      if (opener?.isConnected && (document.activeElement === null || document.activeElement === document.body)) opener.focus();
    };
    dialog.showModal();
    // Escape: the browser closes the dialog itself (and gives focus back), unless a request is in flight.
    const onCancel = (event: Event) => {
      if (busyRef.current) event.preventDefault();
    };
    const onNativeClose = () => {
      giveFocusBack();
      closeRef.current();
    };
    dialog.addEventListener('cancel', onCancel);
    dialog.addEventListener('close', onNativeClose);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      dialog.removeEventListener('close', onNativeClose);
      if (dialog.open) dialog.close();
      giveFocusBack();
    };
  }, []);

  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} aria-busy={busy}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
