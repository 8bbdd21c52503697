complete -c cc-logs -l root -d 'The store\'s root folder' -r -F
complete -c cc-logs -s n -l tail -d 'Only the last N lines (`all` for every line)' -r
complete -c cc-logs -l since -d 'Only lines since TIME: RFC 3339 (with or without a zone and fraction; no zone is local time), a date 2026-01-02, unix seconds, or a duration ago like 10s, 5m, 1h30m' -r
complete -c cc-logs -l until -d 'Only lines until TIME (the forms of --since); with -f, stop there' -r
complete -c cc-logs -s f -l follow -d 'Follow new output; ends by itself when the container ends'
complete -c cc-logs -s t -l timestamps -d 'Show each line\'s time (RFC 3339) first'
complete -c cc-logs -l details -d 'Show each line\'s extra attributes before it, as docker\'s --details (cc\'s log records have none: the line follows one space)'
complete -c cc-logs -s h -l help -d 'Print help'
complete -c cc-logs -s V -l version -d 'Print version'
