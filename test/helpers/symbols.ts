// Jest 29 runs tests in a vm context without Node's Symbol.dispose / Symbol.asyncDispose; give that
// context its own so `using` and Tensor's [Symbol.dispose] agree inside tests (Node itself has them).
const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for('Symbol.dispose');
symbols.asyncDispose ??= Symbol.for('Symbol.asyncDispose');
