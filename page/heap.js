// @ts-check
// The heap page: renders /debug/heap?format=json in the browser with the platform's DOM and SVG
// only. The server inlines this file and allows exactly it by hash (Content-Security-Policy), so
// it never uses innerHTML or inline styles in markup: Trusted Types are required, and positions
// are set through the CSSOM, which the policy allows.
'use strict';

/**
 * @typedef {{ function: string, file: string, line: number, column: number }} FrameData
 * @typedef {{ site: string, frames: number[], size: number, count: number }} StackData
 * @typedef {{ key: string, function: string, file: string, line: number, column: number,
 *   liveBytes: number, count: number, externalBytes: number, externalNoiseBytes: number,
 *   growthBytes: number, suspected: boolean,
 *   suspectedSince: string | null, traceback: string[],
 *   series: { timestamps: number[], bytes: number[] },
 *   routes: { route: string | null, bytes: number, share: number }[] | null }} SiteData
 * @typedef {{ key: string, function: string, file: string, line: number, column: number,
 *   allocatedBytes: number, allocatedObjects: number, liveBytes: number, survival: number | null }} AllocatingSiteData
 * @typedef {{ available: true, sites: AllocatingSiteData[] } | { available: false, reason: string }} AllocationsData
 * @typedef {{ timestamp: string, samplingIntervalBytes: number, reader: string, totalBytes: number,
 *   process: { heapUsedBytes: number, heapLimitBytes: number, externalBytes: number, arrayBuffersBytes: number, rssBytes: number },
 *   monitor: { intervalMs: number, windowMs: number, growthThresholdBytes: number, readings: number },
 *   sites: SiteData[],
 *   stacks: { frames: FrameData[], stacks: StackData[], otherBytes: number, otherCount: number },
 *   allocations: AllocationsData }} HeapData
 * @typedef {{ label: string, title: string, kind: string, path: string, value: number,
 *   sites: Set<string>, suspect: boolean, children: Map<string, FlameNode> }} FlameNode
 */

(() => {
  const ROW_PX = 17;
  /** Frames narrower than this share of the width are not drawn (they still count in their parents). */
  const MIN_SHARE = 0.002;
  const UNITS = ['B', 'KiB', 'MiB', 'GiB'];

  /** @param {string} id */
  const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

  /**
   * Sizes as heapwatch prints them (tracemalloc's rounding): `120 B`, `1804 KiB`, `+2.5 MiB`.
   * @param {number} bytes
   * @param {boolean} [signed]
   */
  function formatSize(bytes, signed = false) {
    let size = Math.abs(bytes);
    let unit = 0;
    while (size >= 1024 * 10 && unit < UNITS.length - 1) {
      size /= 1024;
      unit++;
    }
    const text = `${unit === 0 || size >= 100 ? Math.round(size) : size.toFixed(1)} ${UNITS[unit]}`;
    return `${bytes < 0 ? '-' : signed ? '+' : ''}${text}`;
  }

  /**
   * @param {string} tag
   * @param {string} [text]
   * @param {string} [className]
   */
  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  /** @param {FrameData} frame */
  function kindOf(frame) {
    if (frame.file === '') return 'builtin';
    if (frame.file.startsWith('node:')) return 'node';
    if (frame.file.includes('node_modules/')) return 'dependency';
    return 'user';
  }

  /** @param {FrameData | undefined} frame */
  function isUserFrame(frame) {
    return frame !== undefined && frame.file !== '' && !frame.file.startsWith('node:');
  }

  /** @param {FrameData} frame */
  function where(frame) {
    return frame.file === '' ? '<builtin>' : `${frame.file}:${frame.line}`;
  }

  /** @type {{ data: HeapData | undefined, sort: string, descending: boolean, picked: FlameNode | undefined, selected: string | undefined }} */
  const state = { data: undefined, sort: 'default', descending: true, picked: undefined, selected: undefined };

  // ---- the flame graph (an icicle: outermost call on top) ------------------------------------

  /**
   * Merges the stacks into a tree, outermost call first. A node's `sites` are the sites of the
   * stacks through it: what a click on it leaves in the table.
   * @param {HeapData} data
   */
  function buildTree(data) {
    const { frames, stacks, otherBytes } = data.stacks;
    const suspects = new Set(data.sites.filter((site) => site.suspected).map((site) => site.key));
    const total = stacks.reduce((sum, stack) => sum + stack.size, 0) + otherBytes;
    /** @type {FlameNode} */
    const root = { label: 'all', title: `all sampled live bytes: ${formatSize(total)}`, kind: 'root', path: '', value: total, sites: new Set(), suspect: false, children: new Map() };
    for (const stack of stacks) {
      // The site is the innermost frame of user code, as the server chose it (innermost first there).
      const siteIndex = Math.max(0, stack.frames.findIndex((index) => isUserFrame(frames[index])));
      let node = root;
      node.sites.add(stack.site);
      for (let depth = stack.frames.length - 1; depth >= 0; depth--) {
        const index = stack.frames[depth] ?? -1;
        let child = node.children.get(String(index));
        if (!child) {
          const frame = frames[index] ?? { function: '?', file: '', line: 0, column: 0 };
          child = { label: frame.function, title: `${frame.function} (${where(frame)})`, kind: kindOf(frame), path: `${node.path}/${index}`, value: 0, sites: new Set(), suspect: false, children: new Map() };
          node.children.set(String(index), child);
        }
        child.value += stack.size;
        child.sites.add(stack.site);
        if (depth === siteIndex && suspects.has(stack.site)) child.suspect = true;
        node = child;
      }
    }
    if (otherBytes > 0) {
      root.children.set('other', { label: 'other stacks', title: `stacks beyond the largest ${stacks.length}`, kind: 'other', path: '/other', value: otherBytes, sites: new Set(), suspect: false, children: new Map() });
    }
    return root;
  }

  /** @param {HeapData} data */
  function renderFlame(data) {
    const container = byId('flame');
    container.replaceChildren();
    const root = buildTree(data);
    let depth = 0;
    /**
     * @param {FlameNode} node
     * @param {number} x share of the width left of the node
     * @param {number} level
     */
    const draw = (node, x, level) => {
      const share = root.value === 0 ? 0 : node.value / root.value;
      if (share < MIN_SHARE && node !== root) return;
      depth = Math.max(depth, level + 1);
      const box = element('div', node.label, `frame ${node.kind}`);
      box.title = `${node.title}\n${formatSize(node.value)}, ${(share * 100).toFixed(1)} % of the sampled heap`;
      box.setAttribute('role', 'treeitem');
      box.dataset['path'] = node.path;
      box.dataset['function'] = node.label;
      // The frame where a suspect allocates is marked like the suspect's row.
      if (node.suspect) box.classList.add('suspect');
      box.style.left = `${x * 100}%`;
      box.style.width = `${share * 100}%`;
      box.style.top = `${level * ROW_PX}px`;
      box.addEventListener('click', () => pick(node === root ? undefined : node));
      container.append(box);
      let offset = x;
      const children = [...node.children.values()].sort((a, b) => b.value - a.value || (a.label < b.label ? -1 : 1));
      for (const child of children) {
        draw(child, offset, level + 1);
        offset += root.value === 0 ? 0 : child.value / root.value;
      }
    };
    draw(root, 0, 0);
    container.style.height = `${depth * ROW_PX}px`;
    // Keep the pick across refreshes when the same path still exists.
    if (state.picked) state.picked = findNode(root, state.picked.path);
    markPicked();
  }

  /**
   * @param {FlameNode} root
   * @param {string} path
   * @returns {FlameNode | undefined}
   */
  function findNode(root, path) {
    let node = root;
    for (const step of path.split('/').slice(1)) {
      const next = node.children.get(step);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  /**
   * Whether the frame at `path` is the frame at `ancestor` or under it (paths are `/i/j/k`).
   * @param {string} path
   * @param {string} ancestor
   */
  function within(path, ancestor) {
    return path === ancestor || path.startsWith(`${ancestor}/`);
  }

  /** Outlines the picked frame and dims the frames that are neither above nor under it. */
  function markPicked() {
    const node = state.picked;
    for (const box of byId('flame').querySelectorAll('.frame')) {
      const path = /** @type {HTMLElement} */ (box).dataset['path'] ?? '';
      box.classList.toggle('picked', node !== undefined && path === node.path);
      box.classList.toggle('dim', node !== undefined && !within(path, node.path) && !within(node.path, path));
    }
  }

  /** @param {FlameNode | undefined} node */
  function pick(node) {
    state.picked = node;
    markPicked();
    renderTable();
  }

  // ---- the table of sites ---------------------------------------------------------------------

  /** @param {SiteData} a @param {SiteData} b */
  function defaultOrder(a, b) {
    return Number(b.suspected) - Number(a.suspected) || b.growthBytes - a.growthBytes || b.liveBytes - a.liveBytes || (a.key < b.key ? -1 : 1);
  }

  /** @param {SiteData[]} sites */
  function sorted(sites) {
    if (state.sort === 'default') return [...sites].sort(defaultOrder);
    const key = /** @type {keyof SiteData} */ (state.sort);
    const sign = state.descending ? -1 : 1;
    return [...sites].sort((a, b) => {
      const x = key === 'file' ? `${a.file}:${String(a.line).padStart(9, '0')}` : a[key];
      const y = key === 'file' ? `${b.file}:${String(b.line).padStart(9, '0')}` : b[key];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      return sign * order || defaultOrder(a, b);
    });
  }

  /** @param {number[]} values */
  function sparkline(values) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 140 24');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const line = document.createElementNS(ns, 'polyline');
    // From the series' own lowest to its highest value, as sparklines go: the trend is the point,
    // and the table beside it gives the sizes.
    const min = Math.min(...values);
    const range = Math.max(...values) - min;
    const step = values.length > 1 ? 140 / (values.length - 1) : 0;
    line.setAttribute('points', values.map((value, i) => `${(i * step).toFixed(1)},${(range === 0 ? 12 : 23 - ((value - min) / range) * 22).toFixed(1)}`).join(' '));
    const title = document.createElementNS(ns, 'title');
    title.textContent = values.length === 0 ? 'not tracked by the monitor' : `${values.length} readings, from ${formatSize(values[0] ?? 0)} to ${formatSize(values.at(-1) ?? 0)}`;
    svg.append(title, line);
    return svg;
  }

  function renderTable() {
    const data = state.data;
    if (!data) return;
    const picked = state.picked;
    const sites = sorted(picked ? data.sites.filter((site) => picked.sites.has(site.key)) : data.sites);
    const filter = byId('filter');
    filter.replaceChildren();
    if (picked) {
      const clear = element('button', '✕ show all');
      clear.id = 'clear-filter';
      clear.addEventListener('click', () => pick(undefined));
      filter.append(`under ${picked.title}: ${sites.length} of ${data.sites.length} `, clear);
    } else {
      filter.textContent = `${data.sites.length} largest sites of this reading, and every suspect`;
    }
    for (const th of document.querySelectorAll('th[data-sort]')) {
      const column = /** @type {HTMLElement} */ (th).dataset['sort'];
      th.setAttribute('aria-sort', column === state.sort ? (state.descending ? 'descending' : 'ascending') : 'none');
    }
    const body = /** @type {HTMLElement} */ (document.querySelector('#sites tbody'));
    body.replaceChildren();
    if (!sites.some((site) => site.key === state.selected)) state.selected = sites[0]?.key;
    for (const site of sites) {
      const row = element('tr', undefined, site.suspected ? 'suspect' : '');
      row.dataset['key'] = site.key;
      row.setAttribute('aria-selected', String(site.key === state.selected));
      const suspected = element('td');
      if (site.suspected) suspected.append(element('span', 'suspected', 'badge'));
      const spark = element('td');
      spark.append(sparkline(site.series.bytes));
      const routes = site.routes ? site.routes.map(({ route, share }) => `${route ?? 'outside every route'} ${Math.round(share * 100)} %`).join(', ') : '—';
      row.append(
        element('td', site.function),
        element('td', site.file === '' ? '<builtin>' : `${site.file}:${site.line}`, 'file'),
        element('td', formatSize(site.liveBytes), 'num'),
        element('td', String(site.count), 'num'),
        element('td', site.externalBytes > 0 ? `${formatSize(site.externalBytes)} ± ${formatSize(site.externalNoiseBytes)}` : '—', 'num'),
        element('td', formatSize(site.growthBytes, true), 'num'),
        suspected,
        element('td', routes, 'routes'),
        spark,
      );
      row.addEventListener('click', () => {
        state.selected = site.key;
        renderTable();
      });
      body.append(row);
    }
    renderTraceback(sites.find((site) => site.key === state.selected));
  }

  /** @param {SiteData | undefined} site */
  function renderTraceback(site) {
    byId('traceback-site').textContent = site ? `of ${site.function} (${site.file}:${site.line}), most recent call first` : '';
    byId('traceback').textContent = site ? site.traceback.join('\n') : 'no site selected';
  }

  // ---- the allocating sites (Node 26, allocations: true) -----------------------------------------

  /** @param {HeapData} data */
  function renderAllocations(data) {
    const note = byId('allocs-note');
    const table = byId('allocs');
    const body = /** @type {HTMLElement} */ (document.querySelector('#allocs tbody'));
    body.replaceChildren();
    const { allocations } = data;
    if (!allocations.available) {
      note.textContent = `No allocation data: ${allocations.reason}.`;
      note.hidden = false;
      table.hidden = true;
      return;
    }
    note.hidden = true;
    table.hidden = false;
    for (const site of allocations.sites) {
      const row = element('tr');
      row.dataset['key'] = site.key;
      row.append(
        element('td', site.function),
        element('td', site.file === '' ? '<builtin>' : `${site.file}:${site.line}`, 'file'),
        element('td', formatSize(site.allocatedBytes), 'num'),
        element('td', String(site.allocatedObjects), 'num'),
        element('td', formatSize(site.liveBytes), 'num'),
        element('td', site.survival === null ? '—' : `${(site.survival * 100).toFixed(1)} %`, 'num survival'),
      );
      body.append(row);
    }
  }

  // ---- the process figures ----------------------------------------------------------------------

  /** @param {HeapData} data */
  function renderProcess(data) {
    const { process: figures, monitor } = data;
    const list = byId('process');
    list.replaceChildren();
    const meter = document.createElement('meter');
    meter.max = figures.heapLimitBytes;
    meter.value = figures.heapUsedBytes;
    meter.high = figures.heapLimitBytes * 0.8;
    /** @type {Array<[string, string | Node[]]>} */
    const rows = [
      ['heap used / limit', [document.createTextNode(`${formatSize(figures.heapUsedBytes)} / ${formatSize(figures.heapLimitBytes)} `), meter]],
      ['sampled live', formatSize(data.totalBytes)],
      ['external', formatSize(figures.externalBytes)],
      ['array buffers', formatSize(figures.arrayBuffersBytes)],
      ['resident set', formatSize(figures.rssBytes)],
      ['sampling interval', formatSize(data.samplingIntervalBytes)],
      ['reader', data.reader],
      ['window', `${monitor.windowMs / 1000} s, a reading every ${monitor.intervalMs / 1000} s (${monitor.readings} so far)`],
      ['growth threshold', formatSize(monitor.growthThresholdBytes)],
      ['read at', new Date(data.timestamp).toLocaleTimeString()],
    ];
    for (const [name, value] of rows) {
      const dd = element('dd');
      if (typeof value === 'string') dd.textContent = value;
      else dd.append(...value);
      list.append(element('dt', name), dd);
    }
  }

  // ---- loading ----------------------------------------------------------------------------------

  async function load() {
    const status = byId('status');
    status.className = '';
    status.textContent = 'reading…';
    try {
      const given = new URLSearchParams(location.search);
      const query = new URLSearchParams({ format: 'json', top: given.get('top') ?? '25', stacks: given.get('stacks') ?? '1000' });
      const response = await fetch(`${location.pathname}?${query}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!response.ok) throw new Error(`${response.status} ${(await response.text()).trim()}`);
      const data = /** @type {HeapData} */ (await response.json());
      state.data = data;
      renderFlame(data);
      renderTable();
      renderProcess(data);
      renderAllocations(data);
      status.textContent = `read at ${new Date(data.timestamp).toLocaleTimeString()}: ${formatSize(data.totalBytes)} sampled live, ${data.sites.length} sites, ${data.stacks.stacks.length} stacks`;
    } catch (error) {
      status.className = 'error';
      status.textContent = `could not read the heap: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  for (const th of document.querySelectorAll('th[data-sort]')) {
    th.addEventListener('click', () => {
      const column = /** @type {HTMLElement} */ (th).dataset['sort'] ?? 'default';
      state.descending = state.sort === column ? !state.descending : column !== 'function' && column !== 'file';
      state.sort = column;
      renderTable();
    });
  }
  byId('refresh').addEventListener('click', () => void load());
  void load();
})();
