// An image fetched through apiFetch (so the bearer token goes along) and shown from a blob URL;
// `data-loaded="1"` once the picture has decoded (the e2e test waits for it).
import { useEffect, useState } from 'preact/hooks';
import { apiFetch } from '../lib/api';
import { errorText } from '../lib/problem';

export function AuthImage({ src, alt, cls }: { src: string | null; alt: string; cls?: string }) {
  const [url, setUrl] = useState('');
  const [err, setErr] = useState('');
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    if (!src) return;
    let live = true;
    let made = '';
    apiFetch(src).then(
      async (r) => {
        const b = await r.blob();
        if (!live) return;
        made = URL.createObjectURL(b);
        setUrl(made);
      },
      (e) => live && setErr(errorText(e)),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [src]);
  if (!src) return <div class={`noimg ${cls ?? ''}`}>no crop</div>;
  if (err) return <div class={`noimg ${cls ?? ''}`} title={err}>crop unavailable</div>;
  if (!url) return <div class={`noimg ${cls ?? ''}`}>…</div>;
  return <img class={cls} src={url} alt={alt} data-loaded={loaded ? '1' : '0'} onLoad={() => setLoaded(true)} />;
}
