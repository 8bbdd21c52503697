complete -c cc-logs -l root -d 'The store\'s root folder' -r -F
complete -c cc-logs -l tail -d 'Only the last N lines' -r
complete -c cc-logs -l since -d 'Only lines since TIME: RFC 3339, or a duration ago like 10s, 5m, 2h' -r
complete -c cc-logs -s f -l follow -d 'Follow new output; ends by itself when the container ends'
complete -c cc-logs -s t -l timestamps -d 'Show each line\'s time (RFC 3339) first'
complete -c cc-logs -s h -l help -d 'Print help'
complete -c cc-logs -s V -l version -d 'Print version'
