/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl: global options, the verb table and exit-code mapping. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bus-api.h"
#include "cli.h"
#include "parse-util.h"
#include "reaction.h"
#include "serror/syndrome.h"

JsonMode arg_json = JSON_OFF;
bool arg_allow_ids = false;
bool arg_legend = true;
static bool arg_help = false;
const char *arg_vcpu = "0";
const char *arg_on_pending = "merge";
uint64_t arg_timeout_usec = 5 * 1000000ull;
bool arg_no_wait = false;
uint64_t arg_wait_reaction_usec = 0;
bool arg_dry_run = false;
const char *arg_vm = NULL;

static const Verb verbs[] = {
        { "status", 0, 0, verb_status, "", "Show serrord's version, host and KVM capabilities",
          "Shows what serrord reports about itself: its version and start time, the\n"
          "host architecture, whether /dev/kvm is usable and which of the KVM\n"
          "capabilities serror relies on it has (a capability the host lacks is\n"
          "shown as absent), the number of attached VMs and vcpus, and counters.\n"
          "\n"
          "Options:\n"
          "     --json[=short|pretty]  Print a JSON object instead of text\n"
          "\n"
          "Exit status 3 means serrord is not reachable on the system bus.\n" },
        { "list", 0, 0, verb_list, "", "List the VMs attached to serrord and their vcpus",
          "Lists every VM whose VMM is attached to serrord: name, UUID, VMM pid,\n"
          "architecture, attached vcpu indexes, when it attached, and labels.\n"
          "\n"
          "Options:\n"
          "     --json[=short|pretty]  Print a JSON array (vcpus with thread ids and kick signals)\n"
          "     --no-legend            Omit the header and the summary line\n" },
        { "attach", 0, 0, verb_attach, "--pid=PID", "Attach a running VMM that has no agent (QEMU without the preload)",
          "Starts serror-attach-pid(8) for the VMM process PID: it finds the VMM's\n"
          "vcpus and their threads, attaches them to serrord like an agent, and runs\n"
          "each injection's ioctls on the vcpu's own thread by ptrace. It stays until\n"
          "the VMM exits or the VM is detached (serrorctl detach NAME); no thread is\n"
          "traced between injections. arm64 and x86-64. Needs root or CAP_SYS_PTRACE.\n"
          "\n"
          "Options:\n"
          "     --pid=PID              The VMM process (required)\n"
          "     --name=NAME            The VM's name (default: QEMU's -name, else PROGRAM-PID)\n"
          "     --labels=K=V,...       Labels for the VM\n"
          "     --helper-log=FILE      Append the helper's messages to FILE (each ioctl and\n"
          "                            how long it stopped the thread); default: discarded\n"
          "     --json[=short|pretty]  Print name, pid, vcpus and helper_pid as JSON\n"
          "\n"
          "Exit status 4 means no such process or no vcpus in it; 5 means it may not\n"
          "be traced; 1 that serrord refused it (the reason is printed).\n" },
        { "detach", 1, 1, verb_detach, "VM", "Forget a VM: close every vcpu fd serrord holds for it",
          "Detaches VM (a name or a UUID): serrord closes its vcpu fds and tells the\n"
          "VMM's agent not to reconnect. The VM itself keeps running. Needs root or a\n"
          "member of serrord's [Control] AllowGroups=.\n"
          "\n"
          "Exit status 4 means no such VM is attached; 5 means permission denied.\n" },
        { "inject", 2, 2, verb_inject, "VM SYNDROME", "Inject an SError into a VM's vcpu and show the outcome",
          "Asks serrord to make an SError with SYNDROME pending on a vcpu of VM (a\n"
          "name or UUID), following the architecture's rules when one is already\n"
          "pending, and prints the outcome and the ESR the guest will read, decoded.\n"
          "SYNDROME is as for encode (see serrorctl encode --help); \"kvm\" lets KVM\n"
          "choose the syndrome. On an x86_64 host SYNDROME is a machine check instead\n"
          "(srao, srar, ucna, fatal, mce:ce or mce:...), written into a bank with\n"
          "KVM_X86_SET_MCE; --on-pending then applies to a machine check in progress\n"
          "(MCG_STATUS.MCIP set).\n"
          "\n"
          "Options:\n"
          "     --vcpu=N|all           The vcpu (default: 0), or every attached vcpu\n"
          "     --on-pending=MODE      When an SError is already pending: merge (default;\n"
          "                            the more severe syndrome wins), defer (wait until\n"
          "                            the guest took it) or skip (drop the new one)\n"
          "     --timeout=DURATION     Give up after DURATION (default: 5s)\n"
          "     --no-wait              Print the request id and return at once\n"
          "     --wait-reaction[=DURATION]\n"
          "                            Also wait for what the guest did, watching it for\n"
          "                            DURATION (default: 10s; 10ms to 10min): when it\n"
          "                            took the SError, and whether the VM kept running,\n"
          "                            reset, shut down, or its VMM exited\n"
          "     --dry-run              Do everything but the write (KVM_SET_VCPU_EVENTS,\n"
          "                            KVM_X86_SET_MCE)\n"
          "     --allow-ids            Accept IDS = 1 syndromes\n"
          "     --json[=short|pretty]  Print the outcomes as a JSON array\n"
          "\n"
          "Exit status: 0 when the SError landed (injected, merged, coalesced or\n"
          "deferred), 6 skipped, 7 expired, 8 dry run, 1 failed, 4 no such VM or vcpu,\n"
          "5 permission denied. With --vcpu=all, the first vcpu that did not land decides.\n"
          "What the guest did does not change the exit status.\n" },
        { "history", 0, 0, verb_history, "", "Show the outcomes of recent injections",
          "Shows serrord's bounded in-memory history of injection outcomes, oldest\n"
          "first ([History] Size= in serrord.conf).\n"
          "\n"
          "Options:\n"
          "     --vm=VM                Only this VM's injections\n"
          "     --json[=short|pretty]  Print a JSON array\n" },
        { "monitor", 0, 0, verb_monitor, "", "Print injection outcomes live until interrupted",
          "Prints one line (or with --json one JSON object) per injection outcome as\n"
          "serrord records it, and one more when what the guest did is known (its\n"
          "\"reaction\"), until SIGINT or SIGTERM (exit status 0).\n" },
        { "decode", 1, 1, verb_decode, "VALUE", "Decode an SError ESR or ISS, or an x86 MCi_STATUS (offline)",
          "Decodes VALUE, an ESR_ELx value as a guest reads it (EC 0x2F) or a bare\n"
          "ISS (25 bits or fewer), into its fields: EC, IL, IDS, IESB, AET, EA and\n"
          "DFSC, with what a Linux guest does when it takes it. mce:STATUS[,ITEM...]\n"
          "decodes an x86 MCi_STATUS instead; add mcg=0xN for its class. Works\n"
          "without serrord.\n"
          "\n"
          "Examples:\n"
          "  serrorctl decode 0xbe000c11     AET UER, DFSC asynchronous SError\n"
          "  serrorctl decode 0xc11          the same, given as an ISS\n"
          "  serrorctl decode mce:0xbd000000000000c0,mcg=0x5   SRAO, memory scrubbing\n"
          "\n"
          "Options:\n"
          "     --json[=short|pretty]  Print a JSON object instead of text\n" },
        { "encode", 1, 1, verb_encode, "SYNDROME", "Encode a syndrome to the ISS and ESR a guest reads (offline)",
          "Parses SYNDROME (see serrorctl(1), SYNDROMES) and prints the ISS that\n"
          "serror writes and the ESR_ELx the guest reads. Works without serrord.\n"
          "\n"
          "SYNDROME is a comma-separated list:\n"
          "  uc, ueu, ueo, uer, ce       AET name (DFSC = asynchronous SError)\n"
          "  aet=NAME, iesb, ea          fields\n"
          "  dfsc=uncategorized|async    the fault status code\n"
          "  iss=0xNNN or 0xNNN          a whole ISS\n"
          "  impdef=0xNNNNNN             IDS = 1, IMPLEMENTATION DEFINED (needs --allow-ids)\n"
          "An x86 machine check is mce: and items (see serrorctl(1), X86 MACHINE\n"
          "CHECKS), or a text starting with srao, srar, ucna or fatal; it prints the\n"
          "bank, MCi_STATUS, MCi_ADDR, MCi_MISC, MCG_STATUS and the class.\n"
          "\n"
          "Examples:\n"
          "  serrorctl encode uer                 ISS 0xc11, ESR 0xbe000c11\n"
          "  serrorctl encode aet=ce,iesb\n"
          "  serrorctl encode --allow-ids impdef=0x11\n"
          "  serrorctl encode srar,bank=3,addr=0x1000\n"
          "  serrorctl encode mce:ce              the corrected machine check (ce alone is the SError)\n"
          "\n"
          "Options:\n"
          "     --allow-ids            Accept IDS = 1 syndromes (outside KVM's documented ABI)\n"
          "     --json[=short|pretty]  Print a JSON object instead of text\n" },
        { "policy", 1, ~0u, verb_policy, "COMMAND ...", "Validate, plan, load and run injection policies",
          "Policies are JSON files (see serror-policy(5)). validate and plan work\n"
          "offline, without serrord.\n"
          "\n"
          "Commands:\n"
          "  validate FILE...     Check each file and print every problem as\n"
          "                       FILE:LINE:COLUMN: PATH: MESSAGE (the line when known)\n"
          "  plan FILE            Print the injections the policy would make, one line\n"
          "                       each: OFFSET TARGET VCPU SYNDROME\n"
          "  load FILE            Hand the policy to serrord (not started)\n"
          "  start NAME           Start it, from its beginning, with its seed\n"
          "  stop NAME            Stop it\n"
          "  unload NAME          Forget it\n"
          "  list                 The loaded policies: state, seed, counts, next event\n"
          "  show NAME            One policy: its state, its seed, and its text\n"
          "  reload               Reload serrord's policy directory (all or nothing)\n"
          "\n"
          "Options for plan:\n"
          "     --seed=N               Use seed N (decimal or 0x...) instead of the policy's;\n"
          "                            without either, one is generated and shown\n"
          "     --for=DURATION         Plan only the first DURATION (default: until the\n"
          "                            policy ends, or 1min for a policy without an end)\n"
          "     --vm=NAME[:VCPUS][,KEY=VALUE...]\n"
          "                            A VM to plan for, repeatable; VCPUS is a count (4:\n"
          "                            vcpus 0-3) or a range (2-5), default vcpu 0 only.\n"
          "                            Without --vm: each VM the policy names, with the\n"
          "                            vcpus it names (vcpu 0 for \"all\") and its labels\n"
          "     --json[=short|pretty]  Print JSON\n"
          "     --no-legend            Omit the header and the summary\n"
          "\n"
          "Exit status: 0 valid, 2 invalid (or a usage error), 1 a file cannot be read;\n"
          "for the commands that talk to serrord as for every verb (4: no such policy).\n" },
        { "stop-all", 0, 0, verb_stop_all, "", "Stop every running policy at once; list SErrors already pending",
          "Stops every running policy in one call, then lists the SErrors serror\n"
          "left pending in guests and not yet seen taken: those cannot be cancelled\n"
          "(KVM has no way to), and each guest takes its SError when it unmasks them.\n"
          "Then it counts what the guests did after the injections so far: how\n"
          "many kept running, reset, shut down, lost their VMM, ...\n"
          "\n"
          "Options:\n"
          "     --json[=short|pretty]  Print a JSON object\n" },
};

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static void help(void) {
        printf("Usage: serrorctl [OPTIONS...] COMMAND [ARGS...]\n"
               "\n"
               "Control serrord, which injects arm64 SErrors into KVM guests on purpose,\n"
               "and decode or encode SError syndromes.\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[40];
                snprintf(left, sizeof(left), "%s %s", verbs[i].name, verbs[i].args);
                printf("  %-20s %s\n", left, verbs[i].summary);
        }
        printf("\n"
               "Options:\n"
               "  -h --help              Show this help, or with a command that command's help\n"
               "     --version           Show the version\n"
               "     --json[=short|pretty]  Print JSON instead of text\n"
               "     --no-legend         Omit headers and hints from text output\n"
               "     --allow-ids         Accept IDS = 1 (IMPLEMENTATION DEFINED) syndromes\n"
               "\n"
               "serrorctl talks to %s on the system bus (DBUS_SYSTEM_BUS_ADDRESS\n"
               "overrides its address). Exit status: 0 success, 1 failure, 2 invalid usage\n"
               "or value, 3 serrord not reachable, 4 no such VM, 5 permission denied,\n"
               "6-8 inject did not land (skipped, expired, dry run).\n"
               "See serrorctl(1).\n",
               SERROR_BUS_NAME);
}

static void verb_help(const Verb *v) {
        printf("Usage: serrorctl %s%s%s\n\n%s.\n\n%s", v->name, *v->args ? " " : "", v->args, v->summary, v->details);
}

/* getopt_long values of the options without a short form. */
enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_ALLOW_IDS,
        ARG_VCPU,
        ARG_ON_PENDING,
        ARG_TIMEOUT,
        ARG_NO_WAIT,
        ARG_WAIT_REACTION,
        ARG_DRY_RUN,
        ARG_VM,
        ARG_SEED,
        ARG_FOR,
        ARG_PID,
        ARG_NAME,
        ARG_LABELS,
        ARG_HELPER_LOG,
};
static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "json", optional_argument, NULL, ARG_JSON },
        { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
        { "allow-ids", no_argument, NULL, ARG_ALLOW_IDS },
        { "vcpu", required_argument, NULL, ARG_VCPU },
        { "on-pending", required_argument, NULL, ARG_ON_PENDING },
        { "timeout", required_argument, NULL, ARG_TIMEOUT },
        { "no-wait", no_argument, NULL, ARG_NO_WAIT },
        { "wait-reaction", optional_argument, NULL, ARG_WAIT_REACTION },
        { "dry-run", no_argument, NULL, ARG_DRY_RUN },
        { "vm", required_argument, NULL, ARG_VM },
        { "seed", required_argument, NULL, ARG_SEED },
        { "for", required_argument, NULL, ARG_FOR },
        { "pid", required_argument, NULL, ARG_PID },
        { "name", required_argument, NULL, ARG_NAME },
        { "labels", required_argument, NULL, ARG_LABELS },
        { "helper-log", required_argument, NULL, ARG_HELPER_LOG },
        {},
};

static int parse_json_arg(const char *value) {
        if (!value || streq(value, "short"))
                arg_json = JSON_SHORT;
        else if (streq(value, "pretty"))
                arg_json = JSON_PRETTY;
        else if (streq(value, "off"))
                arg_json = JSON_OFF;
        else
                return usage_error("invalid --json mode '%s': expected short, pretty or off", value);
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        int c, r;

        /* opterr = 0: an unknown option gets our own one-line message. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        arg_help = true;
                        break;
                case ARG_VERSION:
                        printf("serrorctl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_JSON:
                        r = parse_json_arg(optarg);
                        if (r != 0)
                                return r;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_ALLOW_IDS:
                        arg_allow_ids = true;
                        break;
                case ARG_VCPU: {
                        uint32_t index;
                        if (!streq(optarg, "all") && parse_u32(optarg, &index) < 0)
                                return usage_error("invalid --vcpu '%s': expected a vcpu index or 'all'", optarg);
                        arg_vcpu = optarg;
                        break;
                }
                case ARG_ON_PENDING: {
                        serror_mode mode;
                        if (serror_mode_from_string(optarg, &mode) < 0)
                                return usage_error("invalid --on-pending '%s': expected merge, defer or skip", optarg);
                        arg_on_pending = optarg;
                        break;
                }
                case ARG_TIMEOUT:
                        if (parse_duration_usec(optarg, &arg_timeout_usec) < 0 || arg_timeout_usec < SERROR_INJECT_TIMEOUT_MIN_USEC ||
                            arg_timeout_usec > SERROR_INJECT_TIMEOUT_MAX_USEC)
                                return usage_error("invalid --timeout '%s': expected a duration from 1ms to 1h, such as 500ms or 5s",
                                                   optarg);
                        break;
                case ARG_NO_WAIT:
                        arg_no_wait = true;
                        break;
                case ARG_WAIT_REACTION:
                        arg_wait_reaction_usec = REACTION_WINDOW_DEFAULT_USEC;
                        if (optarg && (parse_duration_usec(optarg, &arg_wait_reaction_usec) < 0 ||
                                       arg_wait_reaction_usec < REACTION_WINDOW_MIN_USEC ||
                                       arg_wait_reaction_usec > REACTION_WINDOW_MAX_USEC))
                                return usage_error("invalid --wait-reaction '%s': expected a duration from 10ms to "
                                                   "10min, such as 500ms or 30s", optarg);
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_VM:
                        /* inject takes one --vm (the last); policy plan takes several. */
                        arg_vm = optarg;
                        r = policy_arg_vm(optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_SEED:
                        r = policy_arg_seed(optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_FOR:
                        r = policy_arg_for(optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PID: {
                        uint32_t pid;
                        if (parse_u32(optarg, &pid) < 0 || pid == 0 || pid > INT32_MAX)
                                return usage_error("invalid --pid '%s': expected a process id", optarg);
                        arg_pid = (pid_t) pid;
                        break;
                }
                case ARG_NAME:
                        arg_name = optarg;
                        break;
                case ARG_LABELS:
                        arg_labels = optarg;
                        break;
                case ARG_HELPER_LOG:
                        arg_helper_log = optarg;
                        break;
                case '?':
                        if (optopt >= 0x100)
                                return usage_error("option '%s' needs a value", argv[optind - 1]);
                        if (optopt)
                                return usage_error("unknown option '-%c' (see serrorctl --help)", optopt);
                        return usage_error("unknown option '%s' (see serrorctl --help)", argv[optind - 1]);
                case ':':
                        return usage_error("option '%s' needs a value", argv[optind - 1]);
                default:
                        return -EINVAL;
                }
        return 1;
}

static int run(int argc, char *argv[]) {
        const Verb *v;
        unsigned nargs;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        if (optind >= argc) {
                if (arg_help) {
                        help();
                        return 0;
                }
                return usage_error("missing command (see serrorctl --help)");
        }
        if (streq(argv[optind], "help")) {
                if (optind + 1 >= argc) {
                        help();
                        return 0;
                }
                v = find_verb(argv[optind + 1]);
                if (!v)
                        return usage_error("unknown command '%s' (see serrorctl --help)", argv[optind + 1]);
                verb_help(v);
                return 0;
        }

        v = find_verb(argv[optind]);
        if (!v)
                return usage_error("unknown command '%s' (see serrorctl --help)", argv[optind]);
        if (arg_help) {
                verb_help(v);
                return 0;
        }
        nargs = (unsigned) (argc - optind - 1);
        if (nargs < v->min_args)
                return usage_error("'%s' needs %s (see serrorctl %s --help)", v->name, v->args, v->name);
        if (nargs > v->max_args)
                return usage_error("'%s' takes %s%s, got unexpected '%s'", v->name,
                                   v->max_args == 0 ? "no arguments" : "only ", v->max_args == 0 ? "" : v->args,
                                   argv[optind + 1 + v->max_args]);
        return v->run(argc - optind, argv + optind);
}

/*
 * Output that did not reach its reader is a failure, whatever the verb
 * thought: a full disk or a closed stdout must not look like success to a
 * script. fclose() also reports what a delayed write found.
 */
static int finish_stdout(void) {
        int r = cli_flush_stdout();

        if (fclose(stdout) != 0 && r == 0)
                r = errno > 0 ? -errno : -EIO;
        if (r == 0)
                return 0;
        fprintf(stderr, "serrorctl: write error on standard output: %s\n", strerror(-r));
        return r;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        if (finish_stdout() < 0 && r == 0)
                return CLI_EXIT_FAILURE;
        if (r >= 0)
                return r;
        switch (r) {
        case -EINVAL:
        case -EEXIST: /* a policy of that name is already loaded: a value to change */
                return CLI_EXIT_USAGE;
        case -EHOSTDOWN:
                return CLI_EXIT_NO_DAEMON;
        case -ENOENT:
                return CLI_EXIT_NOT_FOUND;
        case -EACCES:
        case -EPERM: /* a guard refused it */
                return CLI_EXIT_DENIED;
        default:
                return CLI_EXIT_FAILURE;
        }
}
