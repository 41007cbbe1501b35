#!/usr/bin/env node
/** The `moonlight` command line: one command module per file under src/cli/commands/. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { MoonlightError } from '../errors';
import { infoCommand } from './commands/info';
import { inspectCommand } from './commands/inspect';
import { trainCommand } from './commands/train';
import { plotCommand } from './commands/plot';
import { launchCommand } from './commands/launch';
import { evalCommand } from './commands/eval';
import { generateCommand } from './commands/generate';
import { doctorCommand } from './commands/doctor';
import { mergeCommand } from './commands/merge';
import { analyzeCommand } from './commands/analyze';
import { scalingCommand } from './commands/scaling';
import { compareCommand } from './commands/compare';
import { planCommand } from './commands/plan';

export async function main(argv: string[]): Promise<void> {
  let suggestion = '';
  await yargs(argv)
    .scriptName('moonlight')
    .command(infoCommand)
    .command(inspectCommand)
    .command(trainCommand)
    .command(plotCommand)
    .command(launchCommand)
    .command(evalCommand)
    .command(generateCommand)
    .command(doctorCommand)
    .command(mergeCommand)
    .command(analyzeCommand)
    .command(scalingCommand)
    .command(compareCommand)
    .command(planCommand)
    .demandCommand(1, 'Name a command; see --help.')
    .recommendCommands()
    .strict()
    .strictCommands()
    .alias('h', 'help')
    .alias('v', 'version')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      if (error) throw error;
      // yargs reports a mistyped command twice: the suggestion first, then the error; print them as one line.
      if (message.startsWith('Did you mean')) {
        suggestion = ` ${message}`;
        return;
      }
      // One line, as for every other error: the flags are in --help.
      console.error(`moonlight: ${message.replace(/\s*\n\s*/g, ' ')}.${suggestion} (see moonlight --help, or moonlight <command> --help)`);
      process.exit(1);
    })
    .parseAsync();
}

if (require.main === module) {
  main(hideBin(process.argv)).catch((error: unknown) => {
    const prefix = error instanceof MoonlightError ? `${error.name}: ` : '';
    console.error(`moonlight: ${prefix}${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
