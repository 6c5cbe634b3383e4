/** GPIO errors, named so the gateway can tell a missing interface from a wrong line. */

/** The kernel exposes no sysfs GPIO here (not a Pi, or a kernel built without CONFIG_GPIO_SYSFS). */
export class GpioUnavailableError extends Error {
  override readonly name = 'GpioUnavailableError';
  constructor(readonly sysfsRoot: string, detail: string) {
    super(
      `sysfs GPIO is not available on this machine (${detail}). The pole's GPIO devices cannot be driven here. ` +
        `Either remove the hardware section, or set hardware.gpio.backend to "simulated" ` +
        `(or hardware.gpio.simulateIfAbsent to true) to run with the simulated twin.`,
    );
  }
}

/** A configured line does not exist: unknown chip label, or an offset past the chip's lines. */
export class GpioLineError extends Error {
  override readonly name = 'GpioLineError';
}
