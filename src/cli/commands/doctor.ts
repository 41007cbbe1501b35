import type { CommandModule } from 'yargs';
import { doctorReport, formatDoctorReport } from '../../binary/doctor';

interface DoctorArgs {
  json: boolean;
}

/** `moonlight doctor`: what was found, what was chosen and why, and what to do about anything missing. */
export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Check the installation: libtorch found, binary chosen and why, GPUs, gloo/NCCL, and what to fix',
  builder: (y) =>
    y.option('json', { type: 'boolean', default: false, describe: 'Print the report as one JSON object' }),
  handler: (args) => {
    const report = doctorReport();
    console.log(args.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
    // A machine where no binary loads is not healthy: say so in the exit code too.
    if (!report.loaded) process.exitCode = 1;
  },
};
