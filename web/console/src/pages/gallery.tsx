// Face gallery: identify's enrolled people (templates only, never photos), enrol by uploading
// photos (each file is POSTed as image bytes to gallery/{person}), and delete a person
// (crypto-shreds their templates). Alerts can add their crop here too (pages/alerts.tsx).
import { useState } from 'preact/hooks';
import { apiFetch, getJson, svcPath } from '../lib/api';
import { ErrorBox, NeedService, useLoad } from '../components/common';
import { formatTime } from '../lib/format';
import { errorText } from '../lib/problem';
import type { ServiceInfo } from '../lib/types';

function plural(n: unknown, word: string): string {
  return typeof n === 'number' ? `${n} ${word}${n === 1 ? '' : 's'}` : `? ${word}s`;
}

interface Person {
  name: string;
  templates?: number;
  created_at?: string;
}

function Gallery({ svc }: { svc: ServiceInfo }) {
  const people = useLoad(() => getJson<{ people?: Person[] }>(`${svcPath(svc.name, 'gallery')}?limit=1000`), [svc.name]);
  const [name, setName] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [inputKey, setInputKey] = useState(0); // bumped to clear the file input

  const enrol = async (e: Event) => {
    e.preventDefault();
    const person = name.trim();
    if (!person || files.length === 0) return;
    setBusy(true);
    setError('');
    const results: string[] = [];
    for (const f of files) {
      try {
        const r = await apiFetch(svcPath(svc.name, 'gallery', person), {
          method: 'POST',
          headers: { 'Content-Type': f.type === 'image/png' ? 'image/png' : 'image/jpeg' },
          body: f,
        });
        const doc = await r.json().catch(() => ({}));
        results.push(`${f.name}: enrolled (${plural(doc.templates, 'template')}${doc.face_found === false ? ', no face found: whole image used' : ''})`);
      } catch (err) {
        results.push(`${f.name}: ${errorText(err)}`);
      }
    }
    setNote(`${person} — ${results.join('; ')}`);
    setBusy(false);
    setFiles([]);
    setInputKey((k) => k + 1);
    people.reload();
  };

  const remove = async (p: string) => {
    if (!confirm(`Delete ${p} and all their templates?`)) return;
    try {
      await apiFetch(svcPath(svc.name, 'gallery', p), { method: 'DELETE' });
      setNote(`${p} deleted`);
      people.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const list = people.data?.people ?? [];
  return (
    <>
      <form class="card enrol" onSubmit={enrol}>
        <h2>Enrol</h2>
        <label>
          Person <input name="person" value={name} placeholder="name" pattern="[A-Za-z0-9 _.\-]{1,64}" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Photos{' '}
          <input
            id="enrol-files"
            key={inputKey}
            type="file"
            accept="image/jpeg,image/png"
            multiple
            onChange={(e) => setFiles(Array.from((e.target as HTMLInputElement).files ?? []))}
          />
        </label>
        <button type="submit" disabled={busy || !name.trim() || files.length === 0}>
          {busy ? 'Enrolling…' : `Enrol ${files.length || ''} photo${files.length === 1 ? '' : 's'}`}
        </button>
      </form>
      <ErrorBox error={error || people.error} />
      {note && <div class="note">{note}</div>}
      <table class="people">
        <thead>
          <tr>
            <th>Person</th>
            <th>Templates</th>
            <th>Enrolled</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((p) => (
            <tr data-person={p.name}>
              <td>{p.name}</td>
              <td>{p.templates ?? '—'}</td>
              <td>{formatTime(p.created_at)}</td>
              <td>
                <button class="danger" onClick={() => remove(p.name)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {list.length === 0 && !people.loading && (
            <tr>
              <td colSpan={4} class="muted">
                Nobody enrolled yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}

export function GalleryPage() {
  return (
    <section>
      <h1>Face gallery</h1>
      <NeedService type="identify" what="The face gallery">
        {(s) => <Gallery svc={s[0]} />}
      </NeedService>
    </section>
  );
}
