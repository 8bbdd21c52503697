complete -c cc-history -l root -d 'The store\'s root folder' -r -F
complete -c cc-history -l format -d '`table` for people, `json` for one object per line' -r -f -a "table\t''
json\t''"
complete -c cc-history -s q -l quiet -d 'Print the id column only, one per line'
complete -c cc-history -l no-trunc -d 'Do not shorten ids and commands'
complete -c cc-history -s h -l help -d 'Print help'
complete -c cc-history -s V -l version -d 'Print version'
