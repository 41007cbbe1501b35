import type { CommandModule } from 'yargs';
import { binaryResolution, native } from '../../native';

interface InfoArgs {
  json: boolean;
}

/** `moonlight info`: which libtorch and addon are in use, and whether CUDA is available. */
export const infoCommand: CommandModule<object, InfoArgs> = {
  command: 'info',
  describe: 'Show the libtorch the addon uses (route, path, version) and CUDA availability',
  builder: (y) =>
    y.option('json', { type: 'boolean', default: false, describe: 'Print the facts as one JSON object' }),
  handler: (args) => {
    const chosen = binaryResolution();
    const addon = native();
    const facts = {
      addon: chosen.binary,
      binaryRoute: chosen.route,
      libtorchVersion: addon.libtorchVersion,
      libtorchRoute: chosen.libtorch.route,
      libtorchRoot: chosen.libtorch.root,
      cudaBuild: chosen.buildInfo.cuda,
      cudaAvailable: addon.cudaAvailable(),
      cudaDevices: addon.cudaDeviceCount(),
    };
    if (args.json) {
      console.log(JSON.stringify(facts, null, 2));
      return;
    }
    for (const [key, value] of Object.entries(facts)) console.log(`${key.padEnd(16)} ${String(value)}`);
  },
};
