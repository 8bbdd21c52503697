complete -c cc-events -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-events -l since -d 'Events since TIME: RFC 3339 (with or without a zone), a date, unix seconds or a duration before now (10m). Without it, only new events' -r
complete -c cc-events -l until -d 'Stop at TIME (the forms of --since); without it, follow forever' -r
complete -c cc-events -s f -l filter -d 'Only events that match: type (container, image, network, volume), event (an action: start, die, tag …), container (id, id prefix or name), image (name or id), label (K or K=V), network, volume. Repeated keys are alternatives; different keys must all hold' -r
complete -c cc-events -l format -d '`json` for one JSON object per line (docker\'s `{{json .}}`), or a Go template over docker\'s fields: `{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}`, `.Status`, `.ID`, `.From`, `.Scope`, `.Time`, `.TimeNano`' -r
complete -c cc-events -s h -l help -d 'Print help'
complete -c cc-events -s V -l version -d 'Print version'
