import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const CREATED_COLOUR = '#b83f45';
const COMPLETED_COLOUR = '#2c7a5b';
const HEIGHT = 280;

/** Created vs completed per bucket, as uPlot lines; follows the container's width. */
export class SeriesChart {
  private plot?: uPlot;
  private readonly resize = new ResizeObserver(() => {
    this.plot?.setSize({ width: this.width(), height: HEIGHT });
  });

  constructor(private readonly container: HTMLElement) {
    this.resize.observe(container);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.container.clientWidth));
  }

  show(columns: [number[], number[], number[]]): void {
    this.plot?.destroy();
    const spansDays = columns[0].length > 1 && columns[0].at(-1)! - columns[0][0] > 2 * 86_400;
    this.plot = new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [
          { stroke: '#4d4d4d', grid: { stroke: '#eee' }, ...(spansDays ? { space: 60 } : {}) },
          {
            stroke: '#4d4d4d',
            grid: { stroke: '#eee' },
            // Whole numbers only: these are counts of tasks.
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
            values: (_u, splits) => splits.map((value) => String(value)),
          },
        ],
        series: [
          {},
          {
            label: 'Created',
            stroke: CREATED_COLOUR,
            width: 2,
            points: { show: true, size: 6, fill: CREATED_COLOUR },
          },
          {
            label: 'Completed',
            stroke: COMPLETED_COLOUR,
            width: 2,
            dash: [8, 4],
            points: { show: true, size: 6, fill: COMPLETED_COLOUR },
          },
        ],
      },
      columns,
      this.container,
    );
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }
}
