/* `cmref wit`: parse and resolve WIT packages (interp/wit/). */
#ifndef CMREF_CLI_WIT_CMD_H
#define CMREF_CLI_WIT_CMD_H

int cli_wit(int argc, char **argv); /* argv[0] is "wit" */

#endif
