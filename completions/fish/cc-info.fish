complete -c cc-info -l root -d 'The store\'s root folder' -r -F
complete -c cc-info -l format -d '`table` for people, `json` for one object' -r -f -a "table\t''
json\t''"
complete -c cc-info -s h -l help -d 'Print help'
complete -c cc-info -s V -l version -d 'Print version'
