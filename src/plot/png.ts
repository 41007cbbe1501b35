/** SVG → PNG with resvg (Rust, prebuilt; no browser, no canvas, no system libraries). */
import { Resvg } from '@resvg/resvg-js';
import { ArgumentError } from '../errors';

export interface SvgToPngOptions {
  /**
   * Load the system's fonts (fontconfig folders) for the text; default true. Without any font installed
   * resvg still renders the lines and leaves the text out — it does not fail.
   */
  loadSystemFonts?: boolean;
  /** Extra .ttf/.otf files to use, e.g. where the machine has no fonts at all. */
  fontFiles?: string[];
  /** Background colour behind transparent areas (CSS colour); default white, so the PNG reads in any viewer. */
  background?: string;
}

/** Rasterises an SVG string at its own size to PNG bytes. */
export function svgToPng(svg: string, options: SvgToPngOptions = {}): Buffer {
  if (typeof svg !== 'string' || !svg.includes('<svg')) throw new ArgumentError('svgToPng: svg must be an SVG document string');
  const rendered = new Resvg(svg, {
    background: options.background ?? '#ffffff',
    fitTo: { mode: 'original' },
    font: {
      loadSystemFonts: options.loadSystemFonts ?? true,
      fontFiles: options.fontFiles ?? [],
      // The charts ask for DejaVu/Liberation/Arial/sans-serif; name a common one for resvg's generic
      // sans-serif too so text does not vanish on machines whose fontconfig default is a serif or mono face.
      sansSerifFamily: 'DejaVu Sans',
    },
    logLevel: 'off',
  }).render();
  return rendered.asPng();
}
