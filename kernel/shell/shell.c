/*
 * The interactive shell on the serial console (kernel/shell/shell.h): read a line
 * with a few editing keys, split it into words, run the SHELL_COMMAND of
 * that name. Commands register themselves next to the code they show, so
 * this file only knows `help`.
 *
 * Line editing follows what a terminal emulator sends: Enter is CR (a pipe
 * or pexpect sends LF; CR LF counts once), Backspace is DEL (0x7f) or BS
 * (Ctrl-H), Ctrl-U kills the line, Ctrl-C abandons it, and ESC sequences
 * (arrow keys) are swallowed rather than echoed as garbage.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/console/console.h"
#include "kernel/lib/cmdline.h"
#include "kernel/shell/shell.h"

#define PROMPT	       "virtio-os> "
#define SHELL_LINE_MAX 256 /* including the terminating NUL */
#define SHELL_ARGS_MAX 16

#define CTRL(c) ((c)&0x1f)
#define KEY_DEL 0x7f
#define KEY_ESC 0x1b

static void out(const char *s)
{
	console_write(s, strlen(s));
}

static void erase_chars(size_t n)
{
	while (n--)
		out("\b \b");
}

/* Skip the rest of an escape sequence: ESC [ params final, or ESC x. */
static void swallow_escape(void)
{
	int c = console_getc();

	if (c != '[' && c != 'O')
		return;
	do
		c = console_getc();
	while (c >= 0x20 && c < 0x40); /* parameter and intermediate bytes */
}

/*
 * Read one line into buf (NUL terminated). Returns false when the line was
 * too long: its text is dropped and the caller says so, rather than running
 * a truncated command.
 */
static bool read_line(char *buf, size_t size)
{
	static bool last_was_cr;
	size_t len = 0;
	bool overflow = false;

	for (;;) {
		int c = console_getc();

		if (c == '\n' && last_was_cr) {
			last_was_cr = false; /* the LF of a CR LF pair */
			continue;
		}
		last_was_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			out("\r\n");
			buf[len] = '\0';
			return !overflow;
		}
		switch (c) {
		case KEY_DEL:
		case CTRL('H'):
			if (len > 0) {
				len--;
				erase_chars(1);
			}
			break;
		case CTRL('U'):
			erase_chars(len);
			len = 0;
			overflow = false;
			break;
		case CTRL('C'):
			out("^C\r\n" PROMPT);
			len = 0;
			overflow = false;
			break;
		case KEY_ESC:
			swallow_escape();
			break;
		default:
			if (c < 0x20 || c > 0x7e)
				break; /* other control bytes, and non-ASCII */
			if (len + 1 >= size) {
				overflow = true;
				out("\a"); /* ring the bell: the line is full */
				break;
			}
			buf[len++] = (char)c;
			console_write(&buf[len - 1], 1);
		}
	}
}

/* Split at spaces and tabs; double quotes group words with spaces. Returns
 * argc, or -1 when there are too many words or a quote is left open. */
static int split_args(char *line, char **argv, int max)
{
	int argc = 0;
	char *in = line, *o = line;

	for (;;) {
		while (*in == ' ' || *in == '\t')
			in++;
		if (!*in)
			return argc;
		if (argc == max) {
			printf("shell: more than %d words; the command was not run\n", max);
			return -1;
		}
		argv[argc++] = o;
		bool quoted = false;
		while (*in && (quoted || (*in != ' ' && *in != '\t'))) {
			if (*in == '"')
				quoted = !quoted;
			else
				*o++ = *in;
			in++;
		}
		if (quoted) {
			printf("shell: unterminated double quote; the command was not run\n");
			return -1;
		}
		/* `o` never passes `in`, so ending the word here is safe even
		 * when it overwrites the separator that stopped the loop. */
		if (*in)
			in++;
		*o++ = '\0';
	}
}

static const struct shell_command *find_command(const char *name)
{
	SECTION_FOREACH(shell_commands, struct shell_command, cmd)
	{
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	}
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "options") == 0) {
		printf("Kernel command-line options (key=value or flag):\n");
		cmdline_print_options();
		return 0;
	}
	if (argc > 1) {
		const struct shell_command *cmd = find_command(argv[1]);

		if (!cmd) {
			printf("help: no command '%s' (try help)\n", argv[1]);
			return 1;
		}
		printf("usage: %s\n  %s\n", cmd->usage, cmd->help);
		return 0;
	}
	printf("Commands:\n");
	SECTION_FOREACH(shell_commands, struct shell_command, cmd)
	{
		printf("  %-28s %s\n", cmd->usage, cmd->help);
	}
	printf("Keys: Backspace, Ctrl-U (kill line), Ctrl-C (abandon the line, or stop a running "
	       "command).\n");
	return 0;
}
SHELL_COMMAND(help, "help [options|COMMAND]", "list commands, command-line options, or one command",
	      cmd_help);

static void run_line(char *line)
{
	char *argv[SHELL_ARGS_MAX + 1];
	int argc = split_args(line, argv, SHELL_ARGS_MAX);
	const struct shell_command *cmd;
	int status;

	if (argc <= 0)
		return;
	argv[argc] = NULL;
	cmd = find_command(argv[0]);
	if (!cmd) {
		printf("unknown command '%s' (try help)\n", argv[0]);
		return;
	}
	console_clear_interrupt(); /* a Ctrl-C typed before the command is not for it */
	status = cmd->run(argc, argv);
	if (console_interrupted()) {
		printf("^C %s: interrupted\n", argv[0]);
		console_clear_interrupt(); /* it stopped this command, not the next line */
	} else if (status != 0) {
		printf("%s: failed (status %d)\n", argv[0], status);
	}
}

void shell_run(void)
{
	static char line[SHELL_LINE_MAX];

	printf("Type 'help' for commands.\n");
	for (;;) {
		out(PROMPT);
		if (!read_line(line, sizeof line)) {
			printf("shell: line longer than %d characters; the command was not run\n",
			       SHELL_LINE_MAX - 1);
			continue;
		}
		run_line(line);
	}
}
