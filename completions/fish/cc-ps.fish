complete -c cc-ps -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-ps -l format -d '`table`, `json` (one object per line), or a Go template as docker\'s: `{{.Names}}`, `table {{.ID}}\\t{{.Status}}`; fields ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Labels, Label "KEY", Mounts, Networks, LocalVolumes, ExitCode, Pid, StartedAt, FinishedAt' -r
complete -c cc-ps -s f -l filter -d 'Only containers that match: id, name, label (K or K=V), status (created, running, exited, ...), exited (a code), ancestor (an image), before, since (a container), volume (a bind\'s source or destination), network (bridge, none, host, container:X), health (cc has no health checks: none matches every container). Repeated keys are alternatives; different keys must all hold' -r
complete -c cc-ps -s n -l last -d 'Only the N newest containers (of all)' -r
complete -c cc-ps -s a -l all -d 'Show all containers, not only running ones'
complete -c cc-ps -s q -l quiet -d 'Print container ids only, one per line'
complete -c cc-ps -s l -l latest -d 'Only the newest container (of all)'
complete -c cc-ps -l no-trunc -d 'Show whole ids and commands'
complete -c cc-ps -s s -l size -d 'Add docker\'s SIZE column: the bytes the container wrote, and with its image\'s (`0B (virtual 4.26MB)`)'
complete -c cc-ps -s h -l help -d 'Print help'
complete -c cc-ps -s V -l version -d 'Print version'
