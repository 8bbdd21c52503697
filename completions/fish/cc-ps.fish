complete -c cc-ps -l root -d 'The store\'s root folder' -r -F
complete -c cc-ps -l format -d '`table` for people, `json` for one object per line' -r -f -a "table\t''
json\t''"
complete -c cc-ps -s a -l all -d 'Show all containers, not only running ones'
complete -c cc-ps -s q -l quiet -d 'Print container ids only, one per line'
complete -c cc-ps -s h -l help -d 'Print help'
complete -c cc-ps -s V -l version -d 'Print version'
